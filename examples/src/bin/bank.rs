//! A bank with a latent ABBA deadlock that no single run of it hangs on.
//!
//! `transfer` locks the two accounts, then the ledger to record the move. The nightly
//! `audit` locks the ledger first, then each account to check its balance. Run one after the
//! other (as this program and most test suites do) they never hang; run at the same moment,
//! a transfer holding `account` waits for `ledger` while the audit holding `ledger` waits for
//! `account`: a deadlock in production.
//!
//! Four tellers run transfers at once (they contend on the accounts and the ledger, which is
//! what a contention flamegraph shows), then the auditor runs.
//!
//! `cargo run -p lockcheck-examples --bin bank` prints lockcheck's report of the cycle
//! `ledger => account => ledger` on stderr as the second order is taken: the source line of
//! every acquisition, both stacks and the interleaving that deadlocks. Under the CLI,
//! `lockcheck run --flamegraph bank.svg -- cargo run -p lockcheck-examples --bin bank` prints
//! the merged report, exits with status 1 and draws where the tellers waited.

use std::thread;

use lockcheck::Mutex;

struct Account {
    id: u32,
    balance: Mutex<i64>,
}

struct Bank {
    accounts: Vec<Account>,
    ledger: Mutex<Vec<String>>,
}

impl Bank {
    fn new(n: u32) -> Bank {
        Bank {
            accounts: (0..n).map(|id| Account { id, balance: Mutex::named("account", 100) }).collect(),
            ledger: Mutex::named("ledger", Vec::new()),
        }
    }

    /// Locks the lower account id first, so two transfers can never deadlock each other.
    fn transfer(&self, from: usize, to: usize, amount: i64) {
        let (a, b) = (&self.accounts[from], &self.accounts[to]);
        let (first, second) = if a.id < b.id { (a, b) } else { (b, a) };
        let mut first_balance = first.balance.lock();
        let mut second_balance = second.balance.lock();
        if first.id == a.id {
            *first_balance -= amount;
            *second_balance += amount;
        } else {
            *second_balance -= amount;
            *first_balance += amount;
        }
        self.ledger.lock().push(format!("{from} -> {to}: {amount}"));
    }

    /// Takes the ledger first, then every account: the opposite order to `transfer`.
    fn audit(&self) -> i64 {
        let ledger = self.ledger.lock();
        let total = self.accounts.iter().map(|a| *a.balance.lock()).sum();
        println!("audit: {} transfers, total {total}", ledger.len());
        total
    }
}

fn main() {
    let bank = Bank::new(4);
    thread::scope(|s| {
        for teller in 0..4 {
            let bank = &bank;
            thread::Builder::new()
                .name(format!("teller-{teller}"))
                .spawn_scoped(s, move || {
                    for i in 0..2_000 {
                        bank.transfer((i + teller) % 4, (i + teller + 1) % 4, 5);
                    }
                })
                .expect("spawn teller");
        }
    });
    thread::scope(|s| {
        thread::Builder::new().name("auditor".into()).spawn_scoped(s, || bank.audit()).expect("spawn auditor");
    });
}
