//! The output directory: held by one run at a time, written without following links, and
//! cleaned of exactly the files thresher wrote.
//!
//! - **Lock.** [`OutDir::open`] takes an exclusive advisory lock (`flock`) on `OUTDIR/.lock` for
//!   the life of the value. A second run into the same directory is refused with the holder's
//!   pid, host and age. The kernel drops the lock when the process dies, however it dies, so a
//!   killed run leaves nothing that blocks the next.
//! - **No links.** Each of thresher's folders is opened once, relative to OUTDIR's handle, with
//!   `O_NOFOLLOW`; files are created with `O_CREAT | O_EXCL | O_NOFOLLOW` relative to that
//!   folder's handle and renamed with `renameat` (which replaces a link at the final name instead
//!   of writing through it). A folder that is a link is refused. So a link planted at a
//!   predictable name never makes thresher write outside OUTDIR.
//! - **Ownership.** [`Ownership`] tells which entries of thresher's folders a run wrote: shards
//!   named by a marker in `.markers/` (`<cat>-NNNNN.done` for a completed shard,
//!   `<cat>-NNNNN.open` for the one being written), the markers themselves, and the spill files
//!   and step folders of `.work/`. Anything else is the user's: a run refuses to go on rather
//!   than delete it.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType, FlockOperation, Mode, OFlags};

/// The output categories, each a folder of shards.
pub const CATEGORIES: [&str; 3] = ["kept", "rejected", "errors"];
/// Folder of the shards' completion and intent markers.
pub const MARKERS: &str = ".markers";
/// Folder of a run's temporary data (spill files, steps' scratch folders).
pub const WORK: &str = ".work";
/// The lock file.
pub const LOCK: &str = ".lock";
/// The shard suffixes, one per output format and compression.
pub const SHARD_SUFFIXES: [&str; 4] = [".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet"];

/// Why an output directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    /// Another process holds the directory's lock.
    #[error("{path}: in use by another thresher run ({holder}); wait for it to finish or choose another OUTDIR")]
    Locked {
        /// The output directory.
        path: PathBuf,
        /// Who holds it, as the holder wrote it in the lock file.
        holder: String,
    },
    /// One of thresher's folders is a symbolic link or not a folder.
    #[error("{path}: {what}; thresher does not follow links inside OUTDIR")]
    NotAFolder {
        /// The entry.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },
    /// Files that thresher did not write are in its folders.
    #[error(
        "{}: holds files thresher did not write ({}); thresher never deletes them: move them \
         out of OUTDIR's thresher folders (kept, rejected, errors, .markers, .work) or choose \
         another OUTDIR",
        dir.display(),
        list(files)
    )]
    Foreign {
        /// The output directory.
        dir: PathBuf,
        /// The foreign entries (at most a few).
        files: Vec<PathBuf>,
    },
    /// An I/O error, with the path concerned.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

fn list(files: &[PathBuf]) -> String {
    let mut s: Vec<String> = files
        .iter()
        .take(5)
        .map(|p| p.display().to_string())
        .collect();
    if files.len() > 5 {
        s.push(format!("and {} more", files.len() - 5));
    }
    s.join(", ")
}

fn io_at(path: PathBuf) -> impl FnOnce(io::Error) -> OutDirError {
    move |source| OutDirError::Io { path, source }
}

/// An output directory, locked for this run.
pub struct OutDir {
    root: Folder,
    _lock: OwnedFd,
}

impl std::fmt::Debug for OutDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutDir")
            .field("path", &self.root.path)
            .finish()
    }
}

impl OutDir {
    /// Creates `path` (and its parents) if missing, opens it and takes its lock. The lock is
    /// held until the value is dropped (or the process ends).
    pub fn open(path: &Path) -> Result<OutDir, OutDirError> {
        std::fs::create_dir_all(path).map_err(io_at(path.to_path_buf()))?;
        // OUTDIR itself may be a link the user made (a scratch disk): it is followed, once.
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| OutDirError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        let root = Folder {
            path: path.to_path_buf(),
            fd: Arc::new(fd),
        };
        let lock = rustix::fs::openat(
            &*root.fd,
            LOCK,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map_err(|e| root.err(LOCK, e.into()))?;
        match rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                let mut text = String::new();
                let _ = File::from(lock).read_to_string(&mut text);
                return Err(OutDirError::Locked {
                    path: path.to_path_buf(),
                    holder: describe_holder(&text),
                });
            }
            Err(e) => return Err(root.err(LOCK, e.into())),
        }
        // Who holds it, for the message a second run prints.
        let mut f = File::from(lock);
        let host = rustix::system::uname();
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let holder = format!(
            "pid {} on {} since {since}",
            std::process::id(),
            String::from_utf8_lossy(host.nodename().to_bytes())
        );
        f.set_len(0)
            .and_then(|()| f.write_all(holder.as_bytes()))
            .map_err(|e| root.err(LOCK, e))?;
        Ok(OutDir {
            root,
            _lock: f.into(),
        })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.root.path
    }

    /// OUTDIR itself, for its top-level files (`stats.json`, `.run.json`).
    pub fn root(&self) -> &Folder {
        &self.root
    }

    /// One of thresher's folders, created if missing; refused if it is a link or a file.
    pub fn folder(&self, name: &str) -> Result<Folder, OutDirError> {
        self.root.folder(name)
    }

    /// One of thresher's folders if it exists (refused if it is a link or a file).
    pub fn existing_folder(&self, name: &str) -> Result<Option<Folder>, OutDirError> {
        self.root.existing_folder(name)
    }
}

/// `pid N on HOST since T` (as written by [`OutDir::open`]) with T made an age.
fn describe_holder(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "a run that has just started".into();
    }
    if let Some((head, since)) = text.rsplit_once(" since ") {
        if let Ok(t) = since.parse::<u64>() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            return format!("{head}, started {} s ago", now.saturating_sub(t));
        }
    }
    text.to_string()
}

/// A folder of the output directory, held open: every file operation is relative to its handle
/// and never follows a link at the name it is given.
#[derive(Clone)]
pub struct Folder {
    path: PathBuf,
    fd: Arc<OwnedFd>,
}

impl std::fmt::Debug for Folder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Folder").field("path", &self.path).finish()
    }
}

/// A folder entry's kind, as far as ownership needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A folder.
    Dir,
    /// Anything else (a link, a FIFO...).
    Other,
}

impl Folder {
    /// The folder's path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` in this folder (for messages and for readers that take paths).
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    fn err(&self, name: &str, source: io::Error) -> OutDirError {
        OutDirError::Io {
            path: self.join(name),
            source,
        }
    }

    /// The sub-folder `name`, created if missing; refused if it is a link or a file.
    pub fn folder(&self, name: &str) -> Result<Folder, OutDirError> {
        match rustix::fs::mkdirat(&*self.fd, name, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(self.err(name, e.into())),
        }
        self.existing_folder(name)?
            .ok_or_else(|| self.err(name, io::ErrorKind::NotFound.into()))
    }

    /// The sub-folder `name` if it exists; refused if it is a link or a file.
    pub fn existing_folder(&self, name: &str) -> Result<Option<Folder>, OutDirError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat(&*self.fd, name, flags, Mode::empty()) {
            Ok(fd) => Ok(Some(Folder {
                path: self.join(name),
                fd: Arc::new(fd),
            })),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            // With O_DIRECTORY, Linux says ENOTDIR for a link too: ask which it is.
            Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => {
                let link = rustix::fs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW)
                    .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink);
                Err(OutDirError::NotAFolder {
                    path: self.join(name),
                    what: if link {
                        "is a symbolic link"
                    } else {
                        "is not a folder"
                    },
                })
            }
            Err(e) => Err(self.err(name, e.into())),
        }
    }

    /// Creates the file `name`, which must not exist (not even as a link): `O_EXCL|O_NOFOLLOW`.
    pub fn create_new(&self, name: &str) -> io::Result<File> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        let fd = rustix::fs::openat(
            &*self.fd,
            name,
            flags | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map_err(|e| with_path(e.into(), &self.join(name)))?;
        Ok(File::from(fd))
    }

    /// Creates the file `name` afresh, removing first whatever is at that name (a previous
    /// attempt's temporary file, or a link, which is removed, not followed). Only for names
    /// thresher owns.
    pub fn create_fresh(&self, name: &str) -> io::Result<File> {
        self.remove_file(name)?;
        self.create_new(name)
    }

    /// Opens the file `name` for reading; fails if it is a link.
    pub fn open_read(&self, name: &str) -> io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&*self.fd, name, flags, Mode::empty())
            .map_err(|e| with_path(e.into(), &self.join(name)))?;
        Ok(File::from(fd))
    }

    /// Reads the file `name` as text (`None` if it does not exist).
    pub fn read_to_string(&self, name: &str) -> io::Result<Option<String>> {
        match self.open_read(name) {
            Ok(mut f) => {
                let mut s = String::new();
                f.read_to_string(&mut s)?;
                Ok(Some(s))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Renames `from` to `to` inside this folder; a link at `to` is replaced, not followed.
    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        rustix::fs::renameat(&*self.fd, from, &*self.fd, to)
            .map_err(|e| with_path(e.into(), &self.join(to)))
    }

    /// Writes `name` whole: into `.NAME.tmp` (made afresh), then renamed over `name`.
    pub fn write_atomic(&self, name: &str, bytes: &[u8], sync: bool) -> io::Result<()> {
        let tmp = format!(".{name}.tmp");
        let mut f = self.create_fresh(&tmp)?;
        f.write_all(bytes)
            .map_err(|e| with_path(e, &self.join(&tmp)))?;
        if sync {
            f.sync_all()?;
        }
        drop(f);
        self.rename(&tmp, name)
    }

    /// Removes the file (or link) `name`; nothing there is not an error.
    pub fn remove_file(&self, name: &str) -> io::Result<()> {
        match rustix::fs::unlinkat(&*self.fd, name, AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
            Err(e) => Err(with_path(e.into(), &self.join(name))),
        }
    }

    /// Removes the folder `name` and everything in it, never following a link (a link inside
    /// is removed itself); nothing there is not an error.
    pub fn remove_tree(&self, name: &str) -> io::Result<()> {
        match self.existing_folder(name) {
            Ok(Some(sub)) => {
                for (entry, kind) in sub.entries()? {
                    let entry = entry.to_string_lossy();
                    match kind {
                        EntryKind::Dir => sub.remove_tree(&entry)?,
                        _ => sub.remove_file(&entry)?,
                    }
                }
                match rustix::fs::unlinkat(&*self.fd, name, AtFlags::REMOVEDIR) {
                    Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
                    Err(e) => Err(with_path(e.into(), &self.join(name))),
                }
            }
            Ok(None) => Ok(()),
            // A link or a file at that name: remove the entry itself.
            Err(OutDirError::NotAFolder { .. }) => self.remove_file(name),
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }

    /// Whether `name` exists (a link counts, and is not followed).
    pub fn exists(&self, name: &str) -> bool {
        rustix::fs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW).is_ok()
    }

    /// The folder's entries (without `.` and `..`), sorted by name.
    pub fn entries(&self) -> io::Result<Vec<(OsString, EntryKind)>> {
        let dir = rustix::fs::Dir::read_from(self.fd.as_fd())
            .map_err(|e| with_path(e.into(), &self.path))?;
        let mut out = Vec::new();
        for entry in dir {
            let entry = entry.map_err(|e| with_path(e.into(), &self.path))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name = OsString::from(std::ffi::OsStr::from_bytes(name));
            let kind = match entry.file_type() {
                FileType::RegularFile => EntryKind::File,
                FileType::Directory => EntryKind::Dir,
                FileType::Unknown => {
                    // Some file systems do not say in the listing: ask, without following.
                    match rustix::fs::statat(&*self.fd, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)
                    {
                        Ok(st) => match FileType::from_raw_mode(st.st_mode) {
                            FileType::RegularFile => EntryKind::File,
                            FileType::Directory => EntryKind::Dir,
                            _ => EntryKind::Other,
                        },
                        Err(_) => EntryKind::Other,
                    }
                }
                _ => EntryKind::Other,
            };
            out.push((name, kind));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Which entries of an output directory's folders thresher wrote, and which it did not.
#[derive(Debug, Default)]
pub struct Ownership {
    /// Entries thresher wrote: (folder name, entry name, is a folder).
    pub owned: Vec<(&'static str, OsString, bool)>,
    /// Entries it did not write (full paths).
    pub foreign: Vec<PathBuf>,
    /// Whether any shard or marker of a previous run is there.
    pub has_output: bool,
}

/// The marker `<cat>-NNNNN.<kind>` split into category, index and kind.
/// A marker being written (`.<cat>-NNNNN.done.tmp`) counts as the marker.
pub(crate) fn parse_marker(name: &str) -> Option<(&str, &str, &str)> {
    let name = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .unwrap_or(name);
    let (stem, kind) = name.rsplit_once('.')?;
    let (cat, index) = stem.rsplit_once('-')?;
    let ok = CATEGORIES.contains(&cat)
        && index.len() >= 5
        && index.bytes().all(|b| b.is_ascii_digit())
        && matches!(kind, "done" | "open");
    ok.then_some((cat, index, kind))
}

/// The shard index of `NNNNN<suffix>` or `.NNNNN<suffix>.tmp`.
pub(crate) fn shard_index(name: &str) -> Option<&str> {
    let base = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .unwrap_or(name);
    SHARD_SUFFIXES.iter().find_map(|s| {
        let index = base.strip_suffix(s)?;
        (index.len() >= 5 && index.bytes().all(|b| b.is_ascii_digit())).then_some(index)
    })
}

/// Whether `name` is one of `.work`'s entries: a spill file or a step's scratch folder.
pub fn is_work_entry(name: &str, is_dir: bool) -> bool {
    if is_dir {
        name.strip_prefix("step-").is_some_and(|rest| {
            rest.split_once('-').is_some_and(|(i, n)| {
                !i.is_empty()
                    && i.bytes().all(|b| b.is_ascii_digit())
                    && !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
        })
    } else {
        name.strip_prefix("spill-")
            .and_then(|n| n.strip_suffix(".jsonl"))
            .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
    }
}

/// The name of step `index`'s scratch folder in `.work`.
pub fn step_work_name(index: usize, step_name: &str) -> String {
    let clean: String = step_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("step-{index:02}-{clean}")
}

impl OutDir {
    /// Sorts the entries of thresher's folders into those a run wrote and the rest: a shard is
    /// thresher's when a marker names its index; markers and `.work`'s spill files and step
    /// folders are thresher's by name.
    pub fn ownership(&self) -> Result<Ownership, OutDirError> {
        let mut own = Ownership::default();
        let mut marked = std::collections::HashSet::new();
        if let Some(markers) = self.existing_folder(MARKERS)? {
            for (name, kind) in markers.entries().map_err(io_at(markers.path.clone()))? {
                let s = name.to_string_lossy();
                match parse_marker(&s) {
                    Some((cat, index, _)) if kind == EntryKind::File => {
                        marked.insert((cat.to_string(), index.to_string()));
                        own.owned.push((MARKERS, name.clone(), false));
                        own.has_output = true;
                    }
                    _ => own.foreign.push(markers.join(&s)),
                }
            }
        }
        for cat in CATEGORIES {
            let Some(folder) = self.existing_folder(cat)? else {
                continue;
            };
            for (name, kind) in folder.entries().map_err(io_at(folder.path.clone()))? {
                let s = name.to_string_lossy();
                let ours = kind != EntryKind::Dir
                    && shard_index(&s)
                        .is_some_and(|i| marked.contains(&(cat.to_string(), i.to_string())));
                if ours {
                    own.owned.push((cat, name.clone(), false));
                    own.has_output = true;
                } else {
                    own.foreign.push(folder.join(&s));
                }
            }
        }
        if let Some(work) = self.existing_folder(WORK)? {
            for (name, kind) in work.entries().map_err(io_at(work.path.clone()))? {
                let s = name.to_string_lossy();
                let is_dir = kind == EntryKind::Dir;
                if kind != EntryKind::Other && is_work_entry(&s, is_dir) {
                    own.owned.push((WORK, name.clone(), is_dir));
                } else {
                    own.foreign.push(work.join(&s));
                }
            }
        }
        Ok(own)
    }

    /// Removes the folder `name` if it is empty (a folder with anything in it stays).
    pub fn remove_empty_folder(&self, name: &str) {
        let _ = rustix::fs::unlinkat(&*self.root.fd, name, AtFlags::REMOVEDIR);
    }

    /// Removes what [`OutDir::ownership`] says a run wrote, in `only` folders (all when
    /// empty). Nothing is removed if any foreign entry is there (in any folder).
    pub fn remove_owned(&self, own: &Ownership, only: &[&str]) -> Result<(), OutDirError> {
        self.remove_owned_if(own, |folder, _| only.is_empty() || only.contains(&folder))
    }

    /// Removes what an interrupted run left half-made: all of `.work`, and the temporary files
    /// of shards and markers (`.NNNNN.jsonl.tmp`, `.<cat>-NNNNN.done.tmp`). Complete shards
    /// and their markers stay. Nothing is removed if any foreign entry is there.
    pub fn remove_temporaries(&self, own: &Ownership) -> Result<(), OutDirError> {
        self.remove_owned_if(own, |folder, name| {
            folder == WORK || (name.starts_with('.') && name.ends_with(".tmp"))
        })
    }

    fn remove_owned_if(
        &self,
        own: &Ownership,
        keep: impl Fn(&str, &str) -> bool,
    ) -> Result<(), OutDirError> {
        if !own.foreign.is_empty() {
            return Err(OutDirError::Foreign {
                dir: self.path().to_path_buf(),
                files: own.foreign.clone(),
            });
        }
        for (folder, name, is_dir) in &own.owned {
            if !keep(folder, &name.to_string_lossy()) {
                continue;
            }
            let Some(f) = self.existing_folder(folder)? else {
                continue;
            };
            let n = name.to_string_lossy();
            let r = if *is_dir {
                f.remove_tree(&n)
            } else {
                f.remove_file(&n)
            };
            r.map_err(io_at(f.join(&n)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_open_is_refused_while_the_first_holds_the_lock() {
        let d = tempfile::tempdir().unwrap();
        let first = OutDir::open(d.path()).unwrap();
        let err = OutDir::open(d.path()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, OutDirError::Locked { .. }), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop(first);
        OutDir::open(d.path()).expect("free again once the holder is gone");
    }

    #[test]
    fn a_link_at_a_temporary_name_is_replaced_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let outside = d.path().join("outside.txt");
        std::fs::write(&outside, "precious").unwrap();
        let out_path = d.path().join("out");
        let out = OutDir::open(&out_path).unwrap();
        std::os::unix::fs::symlink(&outside, out_path.join(".stats.json.tmp")).unwrap();
        std::os::unix::fs::symlink(&outside, out_path.join("stats.json")).unwrap();
        // A plain create refuses the link...
        assert!(out.root().create_new(".stats.json.tmp").is_err());
        // ...and the atomic write replaces both links with a file of its own.
        out.root().write_atomic("stats.json", b"{}", false).unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
        let meta = std::fs::symlink_metadata(out_path.join("stats.json")).unwrap();
        assert!(meta.file_type().is_file());
    }

    #[test]
    fn a_folder_that_is_a_link_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let elsewhere = d.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let out_path = d.path().join("out");
        std::fs::create_dir(&out_path).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out_path.join("kept")).unwrap();
        let out = OutDir::open(&out_path).unwrap();
        let err = out.folder("kept").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
    }

    #[test]
    fn only_marked_shards_and_work_entries_are_owned() {
        let d = tempfile::tempdir().unwrap();
        let out = OutDir::open(d.path()).unwrap();
        let kept = out.folder("kept").unwrap();
        let markers = out.folder(MARKERS).unwrap();
        let work = out.folder(WORK).unwrap();
        for n in [
            "00000.jsonl",
            ".00001.jsonl.tmp",
            "notes.txt",
            "00002.jsonl",
        ] {
            kept.create_new(n).unwrap();
        }
        for n in ["kept-00000.done", "kept-00001.open"] {
            markers.create_new(n).unwrap();
        }
        work.create_new("spill-0.jsonl").unwrap();
        work.folder("step-03-minhash_dedup_v1").unwrap();
        work.create_new("mine.csv").unwrap();
        let own = out.ownership().unwrap();
        let mut foreign: Vec<String> = own
            .foreign
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        foreign.sort();
        assert_eq!(foreign, ["00002.jsonl", "mine.csv", "notes.txt"]);
        assert_eq!(own.owned.len(), 6);
        // With foreign files present nothing is removed.
        assert!(matches!(
            out.remove_owned(&own, &[]),
            Err(OutDirError::Foreign { .. })
        ));
        assert!(kept.exists("00000.jsonl"));
    }

    #[test]
    fn remove_tree_removes_links_not_their_targets() {
        let d = tempfile::tempdir().unwrap();
        let outside = d.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep.txt"), "x").unwrap();
        let out_path = d.path().join("out");
        let out = OutDir::open(&out_path).unwrap();
        let work = out.folder(WORK).unwrap();
        let step = work.folder("step-01-x").unwrap();
        step.create_new("a.bin").unwrap();
        std::os::unix::fs::symlink(&outside, step.join("link")).unwrap();
        work.remove_tree("step-01-x").unwrap();
        assert!(!work.exists("step-01-x"));
        assert!(outside.join("keep.txt").exists());
    }
}
