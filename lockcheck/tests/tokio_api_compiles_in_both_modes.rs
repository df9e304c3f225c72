//! Every name and method of `lockcheck::tokio`, used once. Built with the `tokio` feature,
//! with and without `instrument`: the same code must compile and behave the same.
#![cfg(feature = "tokio")]

use std::sync::Arc;

use lockcheck::tokio::{
    Mutex, MutexGuard, OwnedMutexGuard, OwnedSemaphorePermit, RwLock, RwLockReadGuard, RwLockWriteGuard, Semaphore,
    SemaphorePermit,
};

static NAMED: Mutex<u32> = Mutex::named("tk-api-named", 0);
static RANKED: RwLock<u32> = RwLock::ranked("tk-api-ranked", 1, 0);
static PERMITS: Semaphore = Semaphore::ranked("tk-api-permits", 2, 2);

#[tokio::test]
async fn mutex_api() {
    let mut m = Mutex::new(1);
    *m.get_mut() += 1;
    {
        let g: MutexGuard<'_, i32> = m.lock().await;
        assert_eq!(*g, 2);
        assert!(m.try_lock().is_err());
    }
    assert_eq!(format!("{:?}", *m.try_lock().unwrap()), "2");
    let m = Arc::new(Mutex::const_new(m.into_inner()));
    let owned: OwnedMutexGuard<i32> = Arc::clone(&m).lock_owned().await;
    assert!(Arc::clone(&m).try_lock_owned().is_err());
    drop(owned);
    *NAMED.lock().await += 1;
    assert_eq!(*Mutex::<u8>::default().lock().await, 0);
    assert_eq!(*Mutex::from(3).lock().await, 3);
}

#[tokio::test]
async fn rwlock_api() {
    let mut l = RwLock::new(1);
    *l.get_mut() += 1;
    {
        let a: RwLockReadGuard<'_, i32> = l.read().await;
        let b = l.try_read().unwrap();
        assert_eq!(*a + *b, 4);
        assert!(l.try_write().is_err());
    }
    {
        let mut w: RwLockWriteGuard<'_, i32> = l.write().await;
        *w += 1;
    }
    assert_eq!(l.into_inner(), 3);
    *RANKED.write().await += 1;
    assert_eq!(*RwLock::<u8>::const_new(4).read().await, 4);
}

#[tokio::test]
async fn semaphore_api() {
    let s = Semaphore::new(3);
    let one: SemaphorePermit<'_> = s.acquire().await.unwrap();
    let two = s.acquire_many(2).await.unwrap();
    assert_eq!(two.num_permits(), 2);
    assert!(s.try_acquire().is_err());
    drop(one);
    assert!(s.try_acquire_many(1).is_ok());
    two.forget();
    assert_eq!(s.available_permits(), 1);
    s.add_permits(1);
    let s = Arc::new(s);
    let owned: OwnedSemaphorePermit = Arc::clone(&s).acquire_owned().await.unwrap();
    let more = Arc::clone(&s).acquire_many_owned(1).await.unwrap();
    assert!(Arc::clone(&s).try_acquire_owned().is_err());
    drop((owned, more));
    s.close();
    assert!(s.is_closed() && s.acquire().await.is_err());
    let _p = PERMITS.acquire().await.unwrap();
    assert_eq!(Semaphore::new(Semaphore::MAX_PERMITS).available_permits(), Semaphore::MAX_PERMITS);
    assert_eq!(Semaphore::const_new(1).available_permits(), 1);
}

#[test]
fn blocking_api() {
    let m = Arc::new(Mutex::new(1));
    *m.blocking_lock() += 1;
    assert_eq!(*Arc::clone(&m).blocking_lock_owned(), 2);
    let l = RwLock::new(1);
    *l.blocking_write() += 1;
    assert_eq!(*l.blocking_read(), 2);
}
