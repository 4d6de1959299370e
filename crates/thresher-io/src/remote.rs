//! An output directory in an object store (`s3://bucket/out/`, `gs://`, `az://`).
//!
//! The run writes a local staging directory exactly as it writes a local OUTDIR (same shards,
//! same markers, same bytes); a background thread, the [`Syncer`], uploads each shard once it
//! is complete. For each shard, in this order:
//!
//! 1. `OUT/.markers/<cat>-NNNNN.open` (the intent marker: the shard's name is thresher's);
//! 2. `OUT/<cat>/NNNNN.<ext>`: one `PUT`, or a multipart upload completed only once every part
//!    is in ([`crate::store::Location::upload_file`]), so a reader never sees part of a shard;
//! 3. `OUT/.markers/<cat>-NNNNN.done`, the completion marker, with the local marker's content;
//! 4. the intent marker is removed, and so is the local copy of the shard (the staging
//!    directory holds only the shards not yet uploaded).
//!
//! `run.json` and then `stats.json` are uploaded last, when the run has succeeded: a
//! `stats.json` in the store means every shard is there.
//!
//! `--resume` works against the store: [`RemoteOut::prepare`] downloads the completed shards
//! (those with a `.done` marker) and their markers into the staging directory, where the run
//! replays and checks them as a local resume does, byte for byte; the shards after them are
//! written and uploaded. `--overwrite` removes what a previous run wrote (shards named by a
//! marker, markers, `stats.json`, `run.json`, `.run.json`) and nothing else; other objects in
//! thresher's folders (`kept/`, `rejected/`, `errors/`, `.markers/`) make the run refuse, as
//! they do locally.
//!
//! The staging directory is `$TMPDIR/thresher-out-<hash of the URL>`, locked like any OUTDIR:
//! two runs on one machine cannot write the same URL at once. (No lock is taken in the store
//! itself: runs on different machines must not share an output URL.)

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::outdir::{parse_marker, shard_index, EntryKind, OutDir, OutDirError, CATEGORIES};
use crate::outdir::{LOCK, MARKERS};
use crate::store::Location;

/// The top-level files of an output directory, uploaded after the shards.
pub const TOP_FILES: [&str; 3] = [".run.json", "run.json", "stats.json"];

/// An output directory in an object store, written through a local staging directory.
#[derive(Debug)]
pub struct RemoteOut {
    loc: Location,
    staging: PathBuf,
}

fn io_at(path: &str) -> impl FnOnce(io::Error) -> OutDirError + '_ {
    move |source| OutDirError::Io {
        path: PathBuf::from(path),
        source,
    }
}

/// What a listing of the output prefix holds, as [`crate::outdir::Ownership`] tells it locally.
#[derive(Debug, Default)]
struct Listing {
    /// Objects thresher wrote (keys relative to the prefix).
    owned: Vec<String>,
    /// Objects in thresher's folders it did not write.
    foreign: Vec<String>,
    /// Completed shards: marker stem (`kept-00003`) -> the shard's key, if it is there.
    done: BTreeMap<String, Option<String>>,
    /// Top-level files present (`stats.json`...).
    top: Vec<String>,
}

impl RemoteOut {
    /// The output directory `url` (a prefix: `s3://bucket/out/`) and its staging directory.
    pub fn new(url: &str) -> io::Result<RemoteOut> {
        let loc = Location::parse(url)?;
        if loc.is_http() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{url}: http(s) is for inputs only; write to s3://, gs:// or az://"),
            ));
        }
        let id = xxhash_id(&loc.url());
        let staging = std::env::temp_dir().join(format!("thresher-out-{id}"));
        Ok(RemoteOut { loc, staging })
    }

    /// The local staging directory (open it with [`OutDir::open`], which locks it).
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The output directory's URL.
    pub fn url(&self) -> String {
        self.loc.url()
    }

    fn list(&self) -> Result<Listing, OutDirError> {
        let url = self.url();
        let listed = self.loc.list().map_err(io_at(&url))?;
        let mut l = Listing::default();
        let mut shards: Vec<(String, String)> = Vec::new();
        let mut named = HashSet::new();
        for (rel, _) in listed {
            let (folder, name) = rel.split_once('/').unwrap_or(("", rel.as_str()));
            if folder.is_empty() {
                if TOP_FILES.contains(&name) {
                    l.top.push(name.to_string());
                }
                continue;
            }
            if folder == MARKERS {
                match parse_marker(name) {
                    Some((cat, index, kind)) if !name.starts_with('.') => {
                        let stem = format!("{cat}-{index}");
                        if kind == "done" {
                            l.done.insert(stem.clone(), None);
                        }
                        named.insert(stem);
                        l.owned.push(rel.clone());
                    }
                    _ => l.foreign.push(rel.clone()),
                }
            } else if CATEGORIES.contains(&folder) {
                match shard_index(name).filter(|_| !name.starts_with('.')) {
                    Some(index) => shards.push((format!("{folder}-{index}"), rel.clone())),
                    None => l.foreign.push(rel.clone()),
                }
            }
        }
        for (stem, key) in shards {
            if named.contains(&stem) {
                if let Some(slot) = l.done.get_mut(&stem) {
                    *slot = Some(key.clone());
                }
                l.owned.push(key);
            } else {
                l.foreign.push(key);
            }
        }
        Ok(l)
    }

    /// Readies the store and the (locked, open) staging directory `out` for a run: clears
    /// what a killed run left in the staging directory, then refuses to mix with a previous
    /// run's output in the store unless `resume` or `overwrite`; with `overwrite`, removes that
    /// output from the store; with `resume`, downloads the completed shards, their markers and
    /// `.run.json` into the staging directory (see the module docs).
    pub fn prepare(&self, out: &OutDir, resume: bool, overwrite: bool) -> Result<(), OutDirError> {
        let url = self.url();
        let root = out.root();
        for (name, kind) in root.entries().map_err(io_at(&url))? {
            let name = name.to_string_lossy();
            if name == LOCK {
                continue;
            }
            let r = match kind {
                EntryKind::Dir => root.remove_tree(&name),
                _ => root.remove_file(&name),
            };
            r.map_err(|e| OutDirError::Io {
                path: root.join(&name),
                source: e,
            })?;
        }
        let l = self.list()?;
        let foreign = || OutDirError::Foreign {
            dir: PathBuf::from(&url),
            files: l.foreign.iter().map(PathBuf::from).collect(),
        };
        if overwrite {
            if !l.foreign.is_empty() {
                return Err(foreign());
            }
            for key in l.owned.iter().chain(&l.top) {
                self.loc.child(key).delete().map_err(io_at(&url))?;
            }
            return Ok(());
        }
        if !resume {
            if !l.foreign.is_empty() {
                return Err(foreign());
            }
            if !l.owned.is_empty() || !l.top.is_empty() {
                return Err(OutDirError::Io {
                    path: PathBuf::from(&url),
                    source: io::Error::other(
                        "holds a previous run's output; use --resume to finish it or \
                         --overwrite to replace it",
                    ),
                });
            }
            return Ok(());
        }
        if !l.foreign.is_empty() {
            return Err(foreign());
        }
        // The run is not complete any more.
        self.loc.child("stats.json").delete().map_err(io_at(&url))?;
        if let Some(run) = self
            .loc
            .child(".run.json")
            .get_bytes()
            .map_err(io_at(&url))?
        {
            root.write_atomic(".run.json", &run, false)
                .map_err(io_at(&url))?;
        }
        let markers = out.folder(MARKERS)?;
        for (stem, key) in &l.done {
            // A marker whose shard is gone: the shard is made again.
            let Some(key) = key else { continue };
            let (cat, name) = key.split_once('/').expect("a shard key is cat/name");
            let folder = out.folder(cat)?;
            let tmp = format!(".{name}.tmp");
            let mut file = folder.create_fresh(&tmp).map_err(io_at(&url))?;
            self.loc
                .child(key)
                .download_to(&mut file)
                .map_err(io_at(&url))?;
            drop(file);
            folder.rename(&tmp, name).map_err(io_at(&url))?;
            let marker_key = format!("{MARKERS}/{stem}.done");
            let marker = self
                .loc
                .child(&marker_key)
                .get_bytes()
                .map_err(io_at(&url))?
                .unwrap_or_default();
            markers
                .write_atomic(&format!("{stem}.done"), &marker, false)
                .map_err(io_at(&url))?;
        }
        Ok(())
    }

    /// Uploads `.run.json` (the run's fingerprint, which `--resume` checks), then starts the
    /// thread that uploads each completed shard of the staging directory `out`. The shards
    /// already in the store (a resumed run's) are not uploaded again.
    pub fn start(&self, out: &OutDir) -> Result<Syncer, OutDirError> {
        let url = self.url();
        let staging = out.path().to_path_buf();
        self.upload_top(&staging, ".run.json")?;
        let mut uploaded = HashSet::new();
        if let Some(markers) = out.existing_folder(MARKERS)? {
            for (name, _) in markers.entries().map_err(io_at(&url))? {
                uploaded.insert(name.to_string_lossy().into_owned());
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut state = SyncState {
            loc: self.loc.clone(),
            staging: staging.clone(),
            uploaded,
        };
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("thresher-upload".into())
            .spawn(move || -> io::Result<()> {
                loop {
                    let last = flag.load(Ordering::Acquire);
                    state.sweep()?;
                    if last {
                        return Ok(());
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
            .map_err(io_at(&url))?;
        Ok(Syncer {
            stop,
            handle,
            url,
            loc: self.loc.clone(),
            staging,
        })
    }

    fn upload_top(&self, staging: &Path, name: &str) -> Result<(), OutDirError> {
        let path = staging.join(name);
        if path.exists() {
            self.loc
                .child(name)
                .upload_file(&path)
                .map_err(io_at(&self.url()))?;
        }
        Ok(())
    }
}

/// A short stable id of `s` (the staging directory's name).
fn xxhash_id(s: &str) -> String {
    format!("{:032x}", twox_hash::XxHash3_128::oneshot(s.as_bytes()))
}

struct SyncState {
    loc: Location,
    staging: PathBuf,
    /// Marker names (`kept-00003.done`) whose shards are in the store.
    uploaded: HashSet<String>,
}

impl SyncState {
    /// Uploads every completed shard of the staging directory not uploaded yet, in order.
    fn sweep(&mut self) -> io::Result<()> {
        let markers = self.staging.join(MARKERS);
        let mut done: Vec<String> = match std::fs::read_dir(&markers) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.') && n.ends_with(".done"))
                .filter(|n| !self.uploaded.contains(n))
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        done.sort();
        for name in done {
            let Some((cat, index, _)) = parse_marker(&name) else {
                continue;
            };
            let stem = format!("{cat}-{index}");
            let shard = crate::outdir::SHARD_SUFFIXES
                .iter()
                .map(|s| format!("{index}{s}"))
                .find(|n| self.staging.join(cat).join(n).is_file());
            let Some(shard) = shard else {
                return Err(io::Error::other(format!(
                    "{}: completed, but no shard file for it in {}",
                    markers.join(&name).display(),
                    self.staging.join(cat).display()
                )));
            };
            let marker_bytes = std::fs::read(markers.join(&name))?;
            let open = self.loc.child(&format!("{MARKERS}/{stem}.open"));
            open.put_bytes(shard.clone().into_bytes())?;
            let local = self.staging.join(cat).join(&shard);
            self.loc
                .child(&format!("{cat}/{shard}"))
                .upload_file(&local)?;
            self.loc
                .child(&format!("{MARKERS}/{name}"))
                .put_bytes(marker_bytes)?;
            open.delete()?;
            // Uploaded: the staging directory needs the marker only.
            std::fs::remove_file(&local)?;
            self.uploaded.insert(name);
        }
        Ok(())
    }
}

/// Uploads the completed shards of a run writing to an object store, as they complete (see
/// the module docs).
pub struct Syncer {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<io::Result<()>>,
    url: String,
    loc: Location,
    staging: PathBuf,
}

impl Syncer {
    /// Uploads the shards completed since the last look and stops the upload thread. Then, if
    /// the run succeeded (`success`), uploads `run.json` and `stats.json`, in that order.
    pub fn finish(self, success: bool) -> Result<(), OutDirError> {
        self.stop.store(true, Ordering::Release);
        let url = self.url.clone();
        self.handle
            .join()
            .map_err(|_| io::Error::other("the upload thread panicked"))
            .and_then(|r| r)
            .map_err(io_at(&url))?;
        if success {
            for name in ["run.json", "stats.json"] {
                let path = self.staging.join(name);
                if path.exists() {
                    self.loc
                        .child(name)
                        .upload_file(&path)
                        .map_err(io_at(&url))?;
                }
            }
        }
        Ok(())
    }
}
