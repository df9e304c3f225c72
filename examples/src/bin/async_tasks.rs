//! Two tokio tasks take two async mutexes in opposite orders: a deadlock waiting to happen,
//! found although this run never hangs (the tasks run one after the other).
//!
//! `reserve` holds `orders` while it awaits `inventory`; `restock` holds `inventory` while it
//! awaits `orders`. No thread ever blocks, so parking_lot's detector or a debugger's thread
//! list would see nothing even in a run that did hang; lockcheck holds each guard by its task
//! and reports the cycle the moment the second order is taken, naming both tasks.
//!
//! Run it with `cargo run -p lockcheck-examples --bin async_tasks`.

use std::sync::Arc;

// Was: use tokio::sync::Mutex;
use lockcheck::tokio::Mutex;

struct Shop {
    orders: Mutex<Vec<u32>>,
    inventory: Mutex<u32>,
}

impl Shop {
    /// Takes an order, then reserves its stock: `orders`, then `inventory`.
    async fn reserve(&self, order: u32) {
        let mut orders = self.orders.lock().await;
        let mut stock = self.inventory.lock().await;
        *stock -= 1;
        orders.push(order);
    }

    /// Restocks, then settles the backlog: `inventory`, then `orders`.
    async fn restock(&self, amount: u32) {
        let mut stock = self.inventory.lock().await;
        *stock += amount;
        let backlog = self.orders.lock().await.len();
        println!("restocked {amount}, {backlog} orders on the books");
    }
}

#[tokio::main]
async fn main() {
    let shop = Arc::new(Shop { orders: Mutex::named("orders", Vec::new()), inventory: Mutex::named("inventory", 5) });
    let s = Arc::clone(&shop);
    tokio::spawn(async move { s.reserve(1).await }).await.unwrap();
    let s = Arc::clone(&shop);
    tokio::spawn(async move { s.restock(3).await }).await.unwrap();
}
