//! Every name and method of `lockcheck::tokio`, used once. Built with the `tokio` feature,
//! with and without `instrument`: the same code must compile and behave the same.
#![cfg(feature = "tokio")]

use std::sync::Arc;

use lockcheck::tokio::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, OwnedRwLockMappedWriteGuard,
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, OwnedSemaphorePermit, RwLock, RwLockMappedWriteGuard, RwLockReadGuard,
    RwLockWriteGuard, Semaphore, SemaphorePermit,
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
    assert_eq!(one.semaphore().available_permits(), 2);
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
    assert_eq!(owned.semaphore().available_permits(), 1);
    let more = Arc::clone(&s).acquire_many_owned(1).await.unwrap();
    assert!(Arc::clone(&s).try_acquire_owned().is_err());
    drop((owned, more));
    s.close();
    assert!(s.is_closed() && s.acquire().await.is_err());
    let _p = PERMITS.acquire().await.unwrap();
    assert_eq!(Semaphore::new(Semaphore::MAX_PERMITS).available_permits(), Semaphore::MAX_PERMITS);
    assert_eq!(Semaphore::const_new(1).available_permits(), 1);
}

#[tokio::test]
async fn mutex_guard_api() {
    let m = Arc::new(Mutex::new((1, 2)));
    let g = m.lock().await;
    // Without `instrument` the guard is tokio's, and so is the mutex it names: use it by its
    // methods, which are the same.
    assert!(MutexGuard::mutex(&g).try_lock().is_err());
    let mut first: MappedMutexGuard<'_, i32> = MutexGuard::map(g, |p| &mut p.0);
    *first += 1;
    let first = MappedMutexGuard::map(first, |f| f);
    let first = MappedMutexGuard::try_map(first, |_| None::<&mut u8>).unwrap_err();
    drop(MappedMutexGuard::try_map(first, |f| Some(f)).unwrap());
    let g = MutexGuard::try_map(m.lock().await, |_| None::<&mut u8>).unwrap_err();
    drop(MutexGuard::try_map(g, |p| Some(&mut p.1)).unwrap());
    let owned = Arc::clone(&m).lock_owned().await;
    assert!(OwnedMutexGuard::mutex(&owned).try_lock().is_err());
    let second: OwnedMappedMutexGuard<(i32, i32), i32> = OwnedMutexGuard::map(owned, |p| &mut p.1);
    let second = OwnedMappedMutexGuard::map(second, |s| s);
    let second = OwnedMappedMutexGuard::try_map(second, |_| None::<&mut u8>).unwrap_err();
    drop(OwnedMappedMutexGuard::try_map(second, |s| Some(s)).unwrap());
    let owned = OwnedMutexGuard::try_map(Arc::clone(&m).lock_owned().await, |_| None::<&mut u8>).unwrap_err();
    drop(OwnedMutexGuard::try_map(owned, |p| Some(&mut p.0)).unwrap());
    assert_eq!(*m.lock().await, (2, 2));
}

#[tokio::test]
async fn rwlock_guard_api() {
    let l = Arc::new(RwLock::new((1, 2)));
    let first: RwLockReadGuard<'_, i32> = RwLockReadGuard::map(l.read().await, |p| &p.0);
    let first = RwLockReadGuard::try_map(first, |_| None::<&u8>).unwrap_err();
    assert_eq!(*first, 1);
    drop(first);
    drop(RwLockReadGuard::try_map(l.read().await, |p| Some(&p.1)).unwrap());
    let w: RwLockMappedWriteGuard<'_, i32> = RwLockWriteGuard::map(l.write().await, |p| &mut p.0);
    let w = RwLockMappedWriteGuard::map(w, |f| f);
    let w = RwLockMappedWriteGuard::try_map(w, |_| None::<&mut u8>).unwrap_err();
    drop(RwLockMappedWriteGuard::try_map(w, |f| Some(f)).unwrap());
    let w = RwLockWriteGuard::try_map(l.write().await, |_| None::<&mut u8>).unwrap_err();
    drop(RwLockWriteGuard::try_map(w, |p| Some(&mut p.1)).unwrap());
    drop(RwLockWriteGuard::into_mapped(l.write().await));
    let r: RwLockReadGuard<'_, (i32, i32)> = l.write().await.downgrade();
    assert!(l.try_read().is_ok() && l.try_write().is_err());
    drop(r);
    drop(RwLockWriteGuard::downgrade_map(l.write().await, |p| &p.0));
    let w = RwLockWriteGuard::try_downgrade_map(l.write().await, |_| None::<&u8>).unwrap_err();
    drop(RwLockWriteGuard::try_downgrade_map(w, |p| Some(&p.1)).unwrap());

    let r: OwnedRwLockReadGuard<(i32, i32)> = Arc::clone(&l).read_owned().await;
    assert!(OwnedRwLockReadGuard::rwlock(&r).try_write().is_err());
    let r: OwnedRwLockReadGuard<(i32, i32), i32> = OwnedRwLockReadGuard::map(r, |p| &p.0);
    let r = OwnedRwLockReadGuard::try_map(r, |_| None::<&u8>).unwrap_err();
    drop(OwnedRwLockReadGuard::try_map(r, |f| Some(f)).unwrap());
    drop(Arc::clone(&l).try_read_owned().unwrap());
    let w: OwnedRwLockWriteGuard<(i32, i32)> = Arc::clone(&l).write_owned().await;
    assert!(OwnedRwLockWriteGuard::rwlock(&w).try_read().is_err());
    assert!(Arc::clone(&l).try_write_owned().is_err());
    let w: OwnedRwLockMappedWriteGuard<(i32, i32), i32> = OwnedRwLockWriteGuard::map(w, |p| &mut p.0);
    assert!(OwnedRwLockMappedWriteGuard::rwlock(&w).try_read().is_err());
    let w = OwnedRwLockMappedWriteGuard::map(w, |f| f);
    let w = OwnedRwLockMappedWriteGuard::try_map(w, |_| None::<&mut u8>).unwrap_err();
    drop(OwnedRwLockMappedWriteGuard::try_map(w, |f| Some(f)).unwrap());
    let w = OwnedRwLockWriteGuard::try_map(Arc::clone(&l).try_write_owned().unwrap(), |_| None::<&mut u8>).unwrap_err();
    drop(OwnedRwLockWriteGuard::try_map(w, |p| Some(&mut p.1)).unwrap());
    drop(OwnedRwLockWriteGuard::into_mapped(Arc::clone(&l).write_owned().await));
    drop(Arc::clone(&l).write_owned().await.downgrade());
    drop(OwnedRwLockWriteGuard::downgrade_map(Arc::clone(&l).write_owned().await, |p| &p.0));
    let w = OwnedRwLockWriteGuard::try_downgrade_map(Arc::clone(&l).write_owned().await, |_| None::<&u8>).unwrap_err();
    drop(OwnedRwLockWriteGuard::try_downgrade_map(w, |p| Some(&p.1)).unwrap());
    assert_eq!(*l.read().await, (1, 2));
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
