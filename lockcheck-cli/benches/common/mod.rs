//! Shared by the benches that run the examples.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The debug-built examples (how `cargo test` runs code), built once.
pub fn example(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        let status = Command::new(option_env!("CARGO").unwrap_or("cargo"))
            .args(["build", "--quiet", "-p", "lockcheck-examples", "--bins"])
            .current_dir(&root)
            .status()
            .expect("run cargo build -p lockcheck-examples");
        assert!(status.success(), "building the examples failed");
        root.join("target/debug")
    });
    dir.join(name)
}
