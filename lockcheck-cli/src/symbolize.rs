//! Symbolising the stacks traces carry as code addresses (trace format 4): each frame is looked
//! up in the debug info of the file its module was loaded from, then trimmed to the user's
//! frames as the library trims in-process stacks. Done here, in the release-built CLI, so that
//! a traced process never loads its own debug info (a tenth of a second and tens of MiB in a
//! debug build, at exit).
//!
//! A module whose file is gone, unreadable, or another build (its GNU build id differs) leaves
//! its frames out, with a warning: frames from the wrong debug info would name the wrong code.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use addr2line::Loader;
use lockcheck::frames::{self, Symbol};
use lockcheck::trace::{ModuleDecl, RawFrame, TraceData};
use lockcheck::Finding;
use object::{Object, ReadCache};

/// Opened modules and the symbols of every address looked up, kept across traces: the traces
/// of one test run share their binaries.
#[derive(Default)]
pub struct Symbolizer {
    /// By (path, build id): the file's debug info, or why it cannot be used.
    modules: HashMap<(String, Vec<u8>), Result<Loader, String>>,
    /// By (path, build id, address).
    symbols: HashMap<(String, Vec<u8>, u64), Vec<Symbol>>,
}

impl Symbolizer {
    /// Symbolises the raw stacks of `data` into [`TraceData::stacks`], and fills the stacks of
    /// its order edges and findings that name one by id. Returns a warning per module whose
    /// frames could not be symbolised.
    pub fn symbolize(&mut self, data: &mut TraceData) -> Vec<String> {
        let cwd = data.header.as_ref().map(|h| Path::new(&h.cwd).to_path_buf()).filter(|c| !c.as_os_str().is_empty());
        let mut warnings = Vec::new();
        let raw = std::mem::take(&mut data.raw_stacks);
        for (&id, frames) in &raw {
            let mut symbols = Vec::new();
            for frame in frames {
                symbols.extend(self.frame(&data.modules, frame, cwd.as_deref(), &mut warnings));
            }
            data.stacks.insert(id, frames::trim(&symbols));
        }
        data.raw_stacks = raw;
        let stacks = &data.stacks;
        let fill = |edge: &mut lockcheck::Edge| {
            if let (true, Some(frames)) = (edge.stack.is_empty(), edge.stack_id.and_then(|id| stacks.get(&id))) {
                edge.stack = frames.clone();
            }
        };
        data.edges.iter_mut().for_each(|e| fill(&mut e.first));
        for finding in &mut data.findings {
            if let Finding::PotentialDeadlock(cycle) = finding {
                cycle.edges.iter_mut().for_each(fill);
            }
        }
        warnings
    }

    /// The symbols of one frame (inlined functions first), innermost first.
    fn frame(
        &mut self,
        modules: &std::collections::BTreeMap<u32, ModuleDecl>,
        frame: &RawFrame,
        cwd: Option<&Path>,
        warnings: &mut Vec<String>,
    ) -> Vec<Symbol> {
        let Some(module) = frame.module.and_then(|m| modules.get(&m)) else { return vec![Symbol::Skip] };
        let key = (module.path.clone(), module.build_id.clone(), frame.address);
        if let Some(symbols) = self.symbols.get(&key) {
            return symbols.clone();
        }
        let loader = self.modules.entry((module.path.clone(), module.build_id.clone())).or_insert_with(|| {
            let opened = open(module);
            if let Err(why) = &opened {
                warnings.push(format!("{}: {why}; its stack frames are left out", module.path));
            }
            opened
        });
        let symbols = match loader {
            Ok(loader) => lookup(loader, frame.address, cwd),
            Err(_) => vec![Symbol::Skip],
        };
        self.symbols.insert(key, symbols.clone());
        symbols
    }
}

/// The debug info of `module`'s file, if the file is the build that ran.
fn open(module: &ModuleDecl) -> Result<Loader, String> {
    let file = File::open(&module.path).map_err(|e| format!("cannot be read ({e})"))?;
    let cache = ReadCache::new(file);
    let object = object::File::parse(&cache).map_err(|e| format!("is not an object file ({e})"))?;
    let build_id = object.build_id().ok().flatten().unwrap_or_default();
    if build_id != module.build_id.as_slice() {
        return Err("is another build than the one that ran (its build id differs)".into());
    }
    Loader::new(&module.path).map_err(|e| format!("has unreadable debug info ({e})"))
}

/// The symbols at a return address: the call before it.
fn lookup(loader: &Loader, address: u64, cwd: Option<&Path>) -> Vec<Symbol> {
    // A return address points after the call; the call is what the frame was doing.
    let probe = address.saturating_sub(1);
    let mut symbols = Vec::new();
    if let Ok(mut found) = loader.find_frames(probe) {
        while let Ok(Some(frame)) = found.next() {
            let name = frame.function.as_ref().and_then(|f| f.demangle().ok()).map(|n| n.into_owned());
            let file = frame.location.as_ref().and_then(|l| l.file).map(Path::new);
            let line = frame.location.as_ref().and_then(|l| l.line);
            symbols.push(Symbol::new(name.as_deref(), file, line, cwd));
        }
    }
    if symbols.is_empty() {
        // No debug info for it: the symbol table still names the function.
        let name = loader.find_symbol(probe).map(|n| addr2line::demangle_auto(n.into(), None).into_owned());
        symbols.push(Symbol::new(name.as_deref(), None, None, cwd));
    }
    symbols
}
