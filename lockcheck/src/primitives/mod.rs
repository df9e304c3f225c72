//! The locks users hold: `Mutex`, `RwLock`, `ReentrantMutex`, `Condvar`, `Semaphore`, the
//! `sync` family with std's API, stress mode as code sees it (`stress`), the `tokio` family with tokio's (cargo feature `tokio`), and
//! the raw locks behind them. Without the `instrument` feature they are parking_lot's own
//! (std's, tokio's); with it, the raw locks run the acquisition protocol of `runtime/` around parking_lot's. The top
//! layer: nothing in the crate below it names it.

pub(crate) mod assertion;
pub(crate) mod condvar;
pub(crate) mod mutex;
pub(crate) mod raw;
pub(crate) mod remutex;
pub(crate) mod rwlock;
pub(crate) mod semaphore;
pub mod stress;
pub mod sync;
#[cfg(feature = "tokio")]
pub mod tokio;
