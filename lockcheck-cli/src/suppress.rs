//! Suppressions for `check` and `run`: the library's [`lockcheck::suppress`], found next to the
//! inputs and loaded with the CLI's errors.

use std::path::{Path, PathBuf};

pub use lockcheck::suppress::{Matcher, Suppressed, Suppression, Suppressions, FILE_NAME};

use crate::Error;

/// Reads and validates a suppression file.
pub fn load(path: &Path) -> Result<Suppressions, Error> {
    if let Err(problem) = std::fs::metadata(path) {
        return Err(Error::io(path)(problem));
    }
    Suppressions::load(path).map_err(|message| Error::Suppressions { path: path.to_owned(), message })
}

/// The suppression file used by default: `lockcheck.toml` in an input directory, next to an
/// input (file or directory), or in the current directory, the first found.
pub fn find(inputs: &[PathBuf]) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    for input in inputs {
        if input.is_dir() {
            candidates.push(input.join(FILE_NAME));
        }
        if let Some(parent) = input.parent() {
            candidates.push(parent.join(FILE_NAME));
        }
    }
    candidates.push(PathBuf::from(FILE_NAME));
    candidates.into_iter().find(|c| c.is_file())
}
