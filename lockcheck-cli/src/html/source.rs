//! Source excerpts: the lines around a site, when its file can be read from here.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use lockcheck::Site;

use super::escape;

/// Lines shown before and after the site's line.
const CONTEXT: u32 = 3;
/// Files larger than this are not read: a site is in source code, not in data.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Source files, read once each.
pub(super) struct Sources {
    /// Where relative paths are looked for after the current directory (each with a few of
    /// its ancestors): the traced processes' working directories.
    roots: Vec<PathBuf>,
    files: HashMap<String, Option<Vec<String>>>,
}

impl Sources {
    /// Looks for relative paths in the current directory, then in `roots`.
    pub(super) fn new(roots: &[PathBuf]) -> Sources {
        Sources { roots: roots.to_vec(), files: HashMap::new() }
    }

    /// The lines around `site`, numbered, its own line marked; nothing when the file cannot
    /// be read (the page then shows the site alone).
    pub(super) fn excerpt(&mut self, site: &Site) -> String {
        let roots = &self.roots;
        let lines = self.files.entry(site.file.clone()).or_insert_with(|| read(&site.file, roots));
        let Some(lines) = lines else { return String::new() };
        let Some(at) = site.line.checked_sub(1).filter(|&i| (i as usize) < lines.len()) else { return String::new() };
        let first = at.saturating_sub(CONTEXT);
        let last = (at + CONTEXT).min(lines.len() as u32 - 1);
        let mut out = String::from("<pre class=\"src\">");
        for i in first..=last {
            let class = if i == at { " class=\"here\"" } else { "" };
            // Block-level spans, one per line: no newline between them, or the `pre` doubles it.
            let _ = write!(out, "<span{class}><i>{:>5}</i> {}</span>", i + 1, escape(&lines[i as usize]));
        }
        out + "</pre>"
    }
}

/// How far up from a base directory a relative path is looked for: source paths are relative
/// to where the build ran (a workspace's root), which may be above where the program ran.
const ANCESTORS: usize = 4;

fn read(file: &str, roots: &[PathBuf]) -> Option<Vec<String>> {
    let path = Path::new(file);
    let mut candidates = vec![path.to_path_buf()];
    if path.is_relative() {
        let here = std::env::current_dir().ok();
        for base in here.iter().chain(roots) {
            candidates.extend(base.ancestors().take(ANCESTORS + 1).map(|b| b.join(path)));
        }
    }
    for candidate in candidates {
        let small = std::fs::metadata(&candidate).is_ok_and(|m| m.is_file() && m.len() <= MAX_FILE_BYTES);
        if let Some(text) = small.then(|| std::fs::read_to_string(&candidate).ok()).flatten() {
            return Some(text.lines().map(str::to_owned).collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_line_is_marked_and_escaped() {
        let dir = std::env::temp_dir().join(format!("lockcheck-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.rs"), "1\n2\n3\nlet x = a < b;\n5\n6\n7\n8\n9\n").unwrap();
        let mut sources = Sources::new(std::slice::from_ref(&dir));
        let html = sources.excerpt(&Site { file: "a.rs".into(), line: 4, column: 1 });
        assert!(html.contains("<span class=\"here\"><i>    4</i> let x = a &lt; b;</span>"), "{html}");
        assert!(html.contains("<i>    1</i>") && html.contains("<i>    7</i>") && !html.contains("<i>    8</i>"));
        assert_eq!(sources.excerpt(&Site { file: "missing.rs".into(), line: 1, column: 1 }), "");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
