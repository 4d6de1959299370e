//! Object stores: `s3://`, `gs://`, `az://` (inputs and outputs) and `http(s)://` (inputs),
//! through the [`object_store`] crate.
//!
//! The `object_store` API is async; thresher is not. A small runtime of two threads, made on
//! first use and owned by this module, drives every request: callers block on the result, so
//! nothing async leaves this crate.
//!
//! Credentials and settings come from the environment, as the cloud's own tools take them:
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` /
//! `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) for an S3-compatible
//! server, `AWS_ALLOW_HTTP=true` for a plain-http one (implied by an `http://` endpoint);
//! `GOOGLE_APPLICATION_CREDENTIALS` / `GOOGLE_SERVICE_ACCOUNT` for `gs://`;
//! `AZURE_STORAGE_ACCOUNT_NAME` and `AZURE_STORAGE_ACCOUNT_KEY` (or a SAS token, or a service
//! principal) for `az://`. See docs/object-stores.md.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use futures::StreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

/// The URL schemes thresher reads from (and, but for `http(s)`, writes to).
pub const SCHEMES: [&str; 9] = [
    "s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "http", "https",
];

/// Whether `s` is an object-store or http(s) URL rather than a local path.
pub fn is_url(s: &str) -> bool {
    s.split_once("://").is_some_and(|(scheme, _)| {
        SCHEMES
            .iter()
            .any(|known| known.eq_ignore_ascii_case(scheme))
    })
}

/// [`is_url`] for a path given on the command line.
pub fn path_is_url(p: &Path) -> bool {
    p.to_str().is_some_and(is_url)
}

/// Objects at most this large are written with one `PUT`; larger ones with a multipart upload
/// of parts this size. Both are atomic: a reader sees the whole object or none of it.
const PART_BYTES: usize = 16 << 20;
/// Parts of one upload in flight at once (so at most this many parts are held in memory).
const PARTS_IN_FLIGHT: usize = 4;

/// The runtime that drives every request: two threads, made on first use.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("thresher-store")
            .enable_all()
            .build()
            .expect("cannot start the object-store runtime")
    })
}

/// `e` as an I/O error naming `url` (a missing object is `NotFound`).
fn io_err(url: &str, e: object_store::Error) -> io::Error {
    let kind = match e {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("{url}: {e}"))
}

/// A place in an object store: the store and an object key (or a prefix, for a "folder").
#[derive(Clone)]
pub struct Location {
    store: Arc<dyn ObjectStore>,
    /// `scheme://bucket` (or `http(s)://host:port`), for the URLs of messages and listings.
    base: String,
    key: Key,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url())
    }
}

/// The stores made so far, by `scheme://bucket`: each keeps its connection pool.
fn stores() -> &'static Mutex<HashMap<String, Arc<dyn ObjectStore>>> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

/// The store behind `url` (`scheme://bucket/...`), configured from the environment.
fn make_store(url: &url::Url) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
    use object_store::ClientConfigKey;
    let s = url.as_str();
    Ok(match url.scheme() {
        "s3" | "s3a" => {
            let mut b = object_store::aws::AmazonS3Builder::from_env().with_url(s);
            // A local S3-compatible server is usually plain http: say so once, in the endpoint.
            let endpoint = std::env::var("AWS_ENDPOINT_URL_S3")
                .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
                .or_else(|_| std::env::var("AWS_ENDPOINT"));
            if endpoint.is_ok_and(|e| e.starts_with("http://")) {
                b = b.with_allow_http(true);
            }
            Arc::new(b.build()?)
        }
        "gs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(s)
                .build()?,
        ),
        "http" | "https" => {
            let origin = url.origin().ascii_serialization();
            Arc::new(
                object_store::http::HttpBuilder::new()
                    .with_url(origin)
                    .with_config(
                        ClientConfigKey::AllowHttp,
                        (url.scheme() == "http").to_string(),
                    )
                    .build()?,
            )
        }
        _ => Arc::new(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(s)
                .build()?,
        ),
    })
}

/// `key` as it goes into a URL: the characters a URL parser would take for something else
/// (`%`, `?`, `#`) are escaped, so [`Location::parse`] of the URL gives the key back.
fn escape_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            _ => out.push(c),
        }
    }
    out
}

impl Location {
    /// The location named by `url`. Fails on a URL that cannot be parsed or a store that
    /// cannot be configured (no region, a bad endpoint...); nothing is asked of the store yet.
    pub fn parse(url: &str) -> io::Result<Location> {
        let bad = |e: &dyn std::fmt::Display| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{url}: {e}"))
        };
        let parsed = url::Url::parse(url).map_err(|e| bad(&e))?;
        let scheme = parsed.scheme().to_ascii_lowercase();
        let base = match parsed.host_str() {
            Some(h) if !h.is_empty() => match parsed.port() {
                Some(p) => format!("{scheme}://{h}:{p}"),
                None => format!("{scheme}://{h}"),
            },
            _ => return Err(bad(&"no bucket (or host) in the URL")),
        };
        let key = Key::from_url_path(parsed.path()).map_err(|e| bad(&e))?;
        let store = {
            let mut stores = stores().lock().unwrap_or_else(|e| e.into_inner());
            match stores.get(&base) {
                Some(s) => s.clone(),
                None => {
                    let s = make_store(&parsed).map_err(|e| bad(&e))?;
                    stores.insert(base.clone(), s.clone());
                    s
                }
            }
        };
        Ok(Location { store, base, key })
    }

    /// The location's URL.
    pub fn url(&self) -> String {
        if self.key.as_ref().is_empty() {
            return format!("{}/", self.base);
        }
        format!("{}/{}", self.base, escape_key(self.key.as_ref()))
    }

    /// The object key (without the bucket).
    pub fn key(&self) -> &str {
        self.key.as_ref()
    }

    /// Whether this is an `http(s)://` location (read-only, and listed only by WebDAV servers).
    pub fn is_http(&self) -> bool {
        self.base.starts_with("http")
    }

    /// The location of `key` in the same store (`""`: the bucket's root).
    pub fn at_key(&self, key: &str) -> Location {
        Location {
            store: self.store.clone(),
            base: self.base.clone(),
            key: Key::default(),
        }
        .child(key)
    }

    /// The location `rel` (`a/b.jsonl`) below this one.
    pub fn child(&self, rel: &str) -> Location {
        let joined = format!("{}/{rel}", self.key.as_ref());
        // A key as the store listed it parses as is; anything else is escaped part by part.
        let key = Key::parse(joined.trim_start_matches('/')).unwrap_or_else(|_| {
            rel.split('/')
                .filter(|p| !p.is_empty())
                .fold(self.key.clone(), |k, part| k.join(part))
        });
        Location {
            store: self.store.clone(),
            base: self.base.clone(),
            key,
        }
    }

    /// The objects under this location taken as a folder (recursively): their keys relative
    /// to it and their sizes, sorted by key.
    pub fn list(&self) -> io::Result<Vec<(String, u64)>> {
        let prefix = (!self.key.as_ref().is_empty()).then_some(&self.key);
        let url = self.url();
        let mut out = runtime().block_on(async {
            let mut stream = self.store.list(prefix);
            let mut out = Vec::new();
            while let Some(meta) = stream.next().await {
                let meta = meta.map_err(|e| io_err(&url, e))?;
                let full: &str = meta.location.as_ref();
                let rel = match prefix {
                    Some(p) => full
                        .strip_prefix(p.as_ref())
                        .and_then(|r| r.strip_prefix('/'))
                        .unwrap_or(full),
                    None => full,
                };
                out.push((rel.to_string(), meta.size));
            }
            Ok::<_, io::Error>(out)
        })?;
        out.sort();
        Ok(out)
    }

    /// The object's size, or `None` if there is no object at this key.
    pub fn head(&self) -> io::Result<Option<u64>> {
        if self.key.as_ref().is_empty() {
            return Ok(None);
        }
        match runtime().block_on(self.store.head(&self.key)) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io_err(&self.url(), e)),
        }
    }

    /// Streams the object into `out` (a chunk at a time: memory does not grow with the
    /// object). Returns the bytes written.
    pub fn download_to(&self, out: &mut impl Write) -> io::Result<u64> {
        let url = self.url();
        runtime().block_on(async {
            let got = self
                .store
                .get(&self.key)
                .await
                .map_err(|e| io_err(&url, e))?;
            let mut stream = got.into_stream();
            let mut n = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| io_err(&url, e))?;
                out.write_all(&chunk)?;
                n += chunk.len() as u64;
            }
            Ok(n)
        })
    }

    /// Bytes `range` of the object (a Parquet footer: a file's schema without its data).
    pub fn get_range(&self, range: std::ops::Range<u64>) -> io::Result<Vec<u8>> {
        runtime()
            .block_on(self.store.get_range(&self.key, range))
            .map(|b| b.to_vec())
            .map_err(|e| io_err(&self.url(), e))
    }

    /// The whole object, or `None` if there is none (for small files: markers, `.run.json`).
    pub fn get_bytes(&self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        match self.download_to(&mut buf) {
            Ok(_) => Ok(Some(buf)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `bytes` as the object, in one `PUT` (atomic).
    pub fn put_bytes(&self, bytes: Vec<u8>) -> io::Result<()> {
        runtime()
            .block_on(self.store.put(&self.key, PutPayload::from(bytes)))
            .map(drop)
            .map_err(|e| io_err(&self.url(), e))
    }

    /// Uploads the local file `path` as the object. A file of up to 16 MiB goes in one `PUT`;
    /// a larger one as a multipart upload (16 MiB parts, four in flight), completed only once
    /// every part is in, and aborted on an error. Either way the object appears whole or not
    /// at all.
    pub fn upload_file(&self, path: &Path) -> io::Result<()> {
        let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        let mut file = std::fs::File::open(path).map_err(with_path)?;
        let len = file.metadata().map_err(with_path)?.len();
        if len <= PART_BYTES as u64 {
            let mut buf = Vec::with_capacity(len as usize);
            file.read_to_end(&mut buf).map_err(with_path)?;
            return self.put_bytes(buf);
        }
        let url = self.url();
        runtime().block_on(async {
            let upload = self
                .store
                .put_multipart(&self.key)
                .await
                .map_err(|e| io_err(&url, e))?;
            let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            let mut buf = vec![0u8; PART_BYTES];
            loop {
                let n = match read_full(&mut file, &mut buf) {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = w.abort().await;
                        return Err(with_path(e));
                    }
                };
                if n == 0 {
                    break;
                }
                if let Err(e) = w.wait_for_capacity(PARTS_IN_FLIGHT).await {
                    let _ = w.abort().await;
                    return Err(io_err(&url, e));
                }
                w.write(&buf[..n]);
            }
            w.finish().await.map(drop).map_err(|e| io_err(&url, e))
        })
    }

    /// Removes the object; none there is not an error.
    pub fn delete(&self) -> io::Result<()> {
        match runtime().block_on(self.store.delete(&self.key)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_err(&self.url(), e)),
        }
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        for u in [
            "s3://b/k",
            "S3://b/",
            "gs://b/x.parquet",
            "az://c/p",
            "https://h/x.jsonl",
        ] {
            assert!(is_url(u), "{u}");
        }
        for p in [
            "data/x.jsonl",
            "/abs/s3://x",
            "file.s3",
            "ftp://h/x",
            "s3:/b/k",
        ] {
            assert!(!is_url(p), "{p}");
        }
    }

    #[test]
    fn keys_round_trip_through_urls() {
        let loc = Location::parse("s3://bucket/in/").unwrap();
        assert_eq!(loc.key(), "in");
        let child = loc.child("sub/a b%?#.jsonl");
        let url = child.url();
        assert_eq!(url, "s3://bucket/in/sub/a b%25%3F%23.jsonl");
        assert_eq!(Location::parse(&url).unwrap().key(), "in/sub/a b%?#.jsonl");
        assert_eq!(
            Location::parse("s3://bucket").unwrap().url(),
            "s3://bucket/"
        );
        assert!(Location::parse("s3:///key").is_err());
    }
}
