//! The loaded objects (the executable and its shared libraries) that stack addresses belong
//! to, so that a trace can carry stacks as addresses and the CLI can symbolise them from the
//! files afterwards: the process never loads its own debug info for its trace.
//!
//! Found with `dl_iterate_phdr` (Linux): each object's path, load bias, executable segments
//! and GNU build id. The collector asks when a stack names an address no known object covers
//! (objects are loaded rarely; the first stack finds them all), and so does the in-process
//! namer of frames (`symtab.rs`), which reads each object's symbol table.

use crate::trace::{ModuleDecl, RawFrame};

/// A loaded object: its declaration and the address ranges of its code.
struct Module {
    decl: ModuleDecl,
    /// Absolute `[start, end)` of each executable segment.
    code: Vec<(u64, u64)>,
}

/// A loaded object as the loader describes it.
struct Loaded {
    path: String,
    bias: u64,
    /// Absolute `[start, end)` of each executable segment.
    code: Vec<(u64, u64)>,
    build_id: Vec<u8>,
}

/// The objects seen so far; ids are indices.
#[derive(Default)]
pub(crate) struct Modules {
    known: Vec<Module>,
}

impl Modules {
    /// The frames of a stack of return addresses, each placed in its object, with the objects
    /// not declared before (to write ahead of the stack).
    pub(crate) fn frames(&mut self, addresses: &[usize]) -> (Vec<RawFrame>, Vec<ModuleDecl>) {
        let before = self.known.len();
        let frames = addresses
            .iter()
            .map(|&ip| {
                let ip = ip as u64;
                match self.index_of(ip) {
                    Some(id) => RawFrame { module: Some(id as u32), address: ip - self.known[id].decl.bias },
                    None => RawFrame { module: None, address: ip },
                }
            })
            .collect();
        let new = self.known[before..].iter().map(|m| m.decl.clone()).collect();
        (frames, new)
    }

    /// The object `ip` lies in: its path and load bias.
    pub(crate) fn containing(&mut self, ip: u64) -> Option<(&str, u64)> {
        let id = self.index_of(ip)?;
        let decl = &self.known[id].decl;
        Some((&decl.path, decl.bias))
    }

    /// The index of the object `ip` lies in, scanning again for objects loaded since.
    fn index_of(&mut self, ip: u64) -> Option<usize> {
        self.find(ip).or_else(|| {
            self.rescan();
            self.find(ip)
        })
    }

    fn find(&self, ip: u64) -> Option<usize> {
        self.known.iter().position(|m| m.code.iter().any(|&(start, end)| (start..end).contains(&ip)))
    }

    /// Adds the objects loaded since the last scan.
    fn rescan(&mut self) {
        for Loaded { path, bias, code, build_id } in loaded() {
            if !self.known.iter().any(|m| m.decl.bias == bias && m.decl.path == path) {
                let id = self.known.len() as u32;
                self.known.push(Module { decl: ModuleDecl { id, path, bias, build_id }, code });
            }
        }
    }
}

/// Every loaded object with code.
#[cfg(target_os = "linux")]
fn loaded() -> Vec<Loaded> {
    use std::ffi::CStr;

    type Found = Vec<Loaded>;

    unsafe extern "C" fn each(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut libc::c_void) -> i32 {
        // SAFETY: `dl_iterate_phdr` passes a valid `info` for the duration of this call, and
        // `data` is the `Found` that `loaded` passed, borrowed by nothing else meanwhile.
        let (info, found) = unsafe { (&*info, &mut *data.cast::<Found>()) };
        let bias = info.dlpi_addr;
        // SAFETY: `dlpi_phdr` points at `dlpi_phnum` program headers of a loaded object.
        let headers = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) };
        let code: Vec<(u64, u64)> = headers
            .iter()
            .filter(|h| h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_X != 0)
            .map(|h| (bias + h.p_vaddr, bias + h.p_vaddr + h.p_memsz))
            .collect();
        let build_id = headers
            .iter()
            .filter(|h| h.p_type == libc::PT_NOTE)
            .find_map(|h| {
                // SAFETY: a PT_NOTE segment is mapped (it lies within a loaded segment) at
                // `bias + p_vaddr`, `p_memsz` bytes long, for as long as the object is loaded,
                // which it is during this callback.
                let notes = unsafe { std::slice::from_raw_parts((bias + h.p_vaddr) as *const u8, h.p_memsz as usize) };
                gnu_build_id(notes)
            })
            .unwrap_or_default();
        let name = match info.dlpi_name.is_null() {
            true => String::new(),
            // SAFETY: a non-null `dlpi_name` is a NUL-terminated string owned by the loader.
            false => unsafe { CStr::from_ptr(info.dlpi_name) }.to_string_lossy().into_owned(),
        };
        // The executable has an empty name; the vDSO a name that is no file.
        let path = match name.is_empty() {
            true => std::env::current_exe().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default(),
            false => name,
        };
        if !code.is_empty() {
            found.push(Loaded { path, bias, code, build_id });
        }
        0
    }

    let mut found: Found = Vec::new();
    // SAFETY: `each` matches the callback type and only touches `found` through `data`.
    unsafe { libc::dl_iterate_phdr(Some(each), (&mut found as *mut Found).cast()) };
    found
}

#[cfg(not(target_os = "linux"))]
fn loaded() -> Vec<Loaded> {
    Vec::new()
}

/// The GNU build id in a segment of ELF notes, if it has one.
fn gnu_build_id(mut notes: &[u8]) -> Option<Vec<u8>> {
    const NT_GNU_BUILD_ID: u32 = 3;
    let word = |b: &[u8], at: usize| b.get(at..at + 4).map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]));
    let align4 = |n: usize| (n + 3) & !3;
    while notes.len() >= 12 {
        let (name_len, desc_len, kind) = (word(notes, 0)? as usize, word(notes, 4)? as usize, word(notes, 8)?);
        let desc_at = 12 + align4(name_len);
        let end = desc_at.checked_add(align4(desc_len))?;
        let name = notes.get(12..12 + name_len)?;
        if kind == NT_GNU_BUILD_ID && name == b"GNU\0" {
            return notes.get(desc_at..desc_at + desc_len).map(<[u8]>::to_vec);
        }
        notes = notes.get(end..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_id_note_is_found_among_others() {
        let mut notes = Vec::new();
        for (kind, name, desc) in [(1u32, &b"XYZ\0"[..], &[9u8; 5][..]), (3, b"GNU\0", &[1, 2, 3, 4, 5, 6, 7, 8])] {
            notes.extend((name.len() as u32).to_ne_bytes());
            notes.extend((desc.len() as u32).to_ne_bytes());
            notes.extend(kind.to_ne_bytes());
            notes.extend(name);
            notes.resize(notes.len().next_multiple_of(4), 0);
            notes.extend(desc);
            notes.resize(notes.len().next_multiple_of(4), 0);
        }
        assert_eq!(gnu_build_id(&notes), Some(vec![1, 2, 3, 4, 5, 6, 7, 8]));
        assert_eq!(gnu_build_id(&notes[..20]), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_test_binary_is_found_with_its_build_id() {
        let here = a_build_id_note_is_found_among_others as fn() as usize;
        let (frames, new) = Modules::default().frames(&[here]);
        let module = frames[0].module.expect("the test binary is a loaded object");
        let exe = std::env::current_exe().unwrap();
        assert_eq!(new[module as usize].path, exe.to_string_lossy());
        assert_eq!(frames[0].address, here as u64 - new[module as usize].bias);
    }
}
