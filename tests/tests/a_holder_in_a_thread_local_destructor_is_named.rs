//! A thread that holds a lock inside one of its thread-local destructors (a pool guard
//! returning its connection at thread exit) is still a thread the reports can name: a wait
//! on that lock past the threshold is a stall naming the holder, whether the destructor's lock
//! is the thread's first or it locked before, and whether its thread-local was made before or
//! after its first lock (destructors run in reverse order of creation, so either can run
//! after lockcheck's own thread-locals are gone).

use std::cell::RefCell;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lockcheck::Mutex;
use lockcheck_tests::child::{self, THRESHOLD_MS};

static POOL: Mutex<u32> = Mutex::named("pool", 0);

/// Holds the pool for a while when its thread ends.
struct ReturnsToPool(mpsc::Sender<()>);

impl Drop for ReturnsToPool {
    fn drop(&mut self) {
        let _pool = POOL.lock();
        self.0.send(()).unwrap();
        thread::sleep(Duration::from_millis(THRESHOLD_MS * 3));
    }
}

thread_local! {
    static CONNECTION: RefCell<Option<ReturnsToPool>> = const { RefCell::new(None) };
}

/// When the pool user takes a lock of its own, if at all.
const ORDERS: [&str; 3] = ["never", "before", "after"];

fn scenario(order: &str) {
    let (held, is_held) = mpsc::channel();
    let order = order.to_owned();
    let holder = thread::Builder::new()
        .name("pool-user".into())
        .spawn(move || {
            if order == "before" {
                *POOL.lock() += 1;
            }
            CONNECTION.with(|c| *c.borrow_mut() = Some(ReturnsToPool(held)));
            if order == "after" {
                *POOL.lock() += 1;
            }
        })
        .unwrap();
    is_held.recv().unwrap();
    *POOL.lock() += 1;
    holder.join().unwrap();
}

#[test]
fn a_holder_in_a_thread_local_destructor_is_named() {
    if child::is_child() {
        return scenario(&std::env::var("POOL_USER_LOCKS").unwrap());
    }
    for order in ORDERS {
        let env = [("POOL_USER_LOCKS", order)];
        let out = child::run("a_holder_in_a_thread_local_destructor_is_named", &env, Duration::from_secs(20));
        out.check(out.succeeded(), &format!("the child ends normally (pool user locks {order})"));
        let stall = out.stderr.split("lockcheck: STALL").nth(1).unwrap_or_default();
        out.check(stall.contains("held by thread `pool-user`"), &format!("the holder is named (locks {order})"));
        out.check(stall.contains("thread `pool-user` is not waiting"), &format!("and described (locks {order})"));
    }
}
