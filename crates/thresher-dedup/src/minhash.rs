//! `minhash_dedup`: near-duplicate removal with MinHash-LSH.
//!
//! What it does: every document gets a MinHash signature (see [`crate::signature`]); documents
//! that agree on all values of at least one band are candidate pairs; candidate pairs (optionally
//! checked by true Jaccard similarity) are joined with union-find into clusters; one document per
//! cluster is kept and the others are rejected with reason `minhash_dedup:duplicate` and the keeper's id.
//! Kept documents are annotated with their cluster id (the keeper's id) and cluster size.
//!
//! Why: near-duplicates (mirrors, templated pages, lightly edited copies) waste training compute
//! and skew what a model memorises; exact hashing misses them.
//!
//! Source of the `fineweb` profile: datatrove 0.10.1 `MinhashConfig()` defaults, the setting
//! FineWeb was deduplicated with: 5-word shingles, 14 bands of 8 hashes, seed 1, 64-bit
//! xxHash shingle hashes, default `TextNormConfig`.
//!
//! Scheduling: a [`StepMode::TwoPass`] step. `observe` computes signatures (in parallel) and
//! appends band records to buffers that spill to sorted run files under `work_dir` when they
//! reach `memory_budget_mb`; `end_observe` merges the runs band by band and clusters; `process`
//! applies the decisions. The decisions depend only on the documents and their input order.
//!
//! Sharded runs (`stage`): `signatures` writes a shard's runs and stops there (documents pass
//! unchanged); [`cluster_work_dir`](crate::lsh::cluster_work_dir) (one process) merges all
//! shards and writes each shard's decisions; `filter` applies a shard's decisions. The result is
//! the same as a single run over the shards' inputs concatenated in shard order.
//!
//! Example recipe table:
//!
//! ```toml
//! [[step]]
//! type = "minhash_dedup"
//! profile = "fineweb"
//! memory_budget_mb = 2048
//! keeper = "lowest_seq"
//! ```

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::check::{check_at_least, check_fraction};
use thresher_core::{Document, Error, Outcome, Reason, Result, Step, StepConfig, StepCx, StepMode};

use crate::lsh::{
    self, node_id, ClusterOptions, ClusterReport, Decisions, DocEntry, Fate, Keeper, ShardWriter,
};
use crate::normalize::TextNorm;
use crate::signature::{MinHasher, SigScratch, SignatureParams};

const STEP: &str = "minhash_dedup";

/// Which part of a (possibly sharded) run this step instance does.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Everything in one run: signatures, clustering, filtering.
    #[default]
    Single,
    /// Sharded run, first stage: write this shard's band files to `work_dir`; keep every doc.
    Signatures,
    /// Sharded run, last stage: apply the decisions the cluster stage wrote for this shard.
    Filter,
}

/// A bundled parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Name used in recipes.
    pub name: &'static str,
    /// Words per shingle.
    pub n_grams: usize,
    /// Bands.
    pub bands: usize,
    /// Hash values per band.
    pub rows: usize,
    /// Where the values come from.
    pub source: &'static str,
}

/// The bundled profiles.
pub const PROFILES: [Profile; 2] = [
    Profile {
        name: "fineweb",
        n_grams: 5,
        bands: 14,
        rows: 8,
        source: "datatrove 0.10.1 MinhashConfig defaults (FineWeb)",
    },
    Profile {
        name: "high_recall",
        n_grams: 5,
        bands: 20,
        rows: 5,
        source: "thresher: same hash budget order as fineweb, S-curve midpoint near 0.55",
    },
];

/// Probability that two documents whose shingle sets have Jaccard similarity `s` share at
/// least one band (and so become a candidate pair): `1 - (1 - s^rows)^bands`. This is the
/// S-curve of a profile; its steepest point is near `(1/bands)^(1/rows)`.
pub fn catch_probability(s: f64, bands: usize, rows: usize) -> f64 {
    let r = i32::try_from(rows).unwrap_or(i32::MAX);
    let b = i32::try_from(bands).unwrap_or(i32::MAX);
    1.0 - (1.0 - s.powi(r)).powi(b)
}

/// Recipe parameters of `minhash_dedup`. Unset shape parameters come from `profile`.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MinhashDedupConfig {
    /// Bundled parameter set: `fineweb` (default) or `high_recall`.
    pub profile: String,
    /// Words per shingle (profile value when unset).
    pub n_grams: Option<usize>,
    /// Number of bands (datatrove's `num_buckets`).
    pub bands: Option<usize>,
    /// Hash values per band (datatrove's `hashes_per_bucket`).
    pub rows: Option<usize>,
    /// Seed of the hash permutations (numpy `RandomState` seed, as in datatrove).
    pub seed: u32,
    /// Text normalisation before splitting into words (datatrove's `TextNormConfig`).
    pub norm: TextNorm,
    /// Which document of a cluster is kept: `lowest_seq`, `priority` or `datatrove`.
    pub keeper: Keeper,
    /// Metadata field holding the keeper priority (a number; higher wins) for `keeper = "priority"`.
    pub priority_field: Option<String>,
    /// Verify candidate pairs: join them only if the true Jaccard similarity of their shingle
    /// sets reaches this value. Off when unset.
    pub verify_jaccard: Option<f64>,
    /// Where band files go. Default: a folder of the run's own under `OUTDIR/.work`, removed
    /// when the run ends.
    /// Required for the `signatures` and `filter` stages.
    pub work_dir: Option<PathBuf>,
    /// Memory for band records before they spill to disk, in MiB.
    pub memory_budget_mb: u64,
    /// `single`, `signatures` or `filter` (see [`Stage`]).
    pub stage: Stage,
    /// This process's shard, for the `signatures` and `filter` stages.
    pub shard_index: u32,
    /// Also write `minhash_cluster_id` / `minhash_cluster_size` into the metadata (datatrove's
    /// names, for FineWeb-2 style rehydration). With `keeper = "datatrove"` the id is
    /// datatrove's: the cluster's number (clusters numbered from 0 by their first document),
    /// -1 for a document alone; else the kept document's id. Annotations are always written.
    pub cluster_metadata: bool,
}

impl Default for MinhashDedupConfig {
    fn default() -> Self {
        MinhashDedupConfig {
            profile: "fineweb".into(),
            n_grams: None,
            bands: None,
            rows: None,
            seed: 1,
            norm: TextNorm::default(),
            keeper: Keeper::LowestSeq,
            priority_field: None,
            verify_jaccard: None,
            work_dir: None,
            memory_budget_mb: 1024,
            stage: Stage::Single,
            shard_index: 0,
            cluster_metadata: false,
        }
    }
}

impl MinhashDedupConfig {
    /// The signature parameters: the profile's, overridden by the explicit fields.
    pub fn signature_params(&self) -> Result<SignatureParams> {
        let p = PROFILES
            .iter()
            .find(|p| p.name == self.profile)
            .ok_or_else(|| {
                let names: Vec<_> = PROFILES.iter().map(|p| p.name).collect();
                Error::config(
                    STEP,
                    format!(
                        "unknown profile `{}` (known: {})",
                        self.profile,
                        names.join(", ")
                    ),
                )
            })?;
        Ok(SignatureParams {
            n_grams: self.n_grams.unwrap_or(p.n_grams),
            bands: self.bands.unwrap_or(p.bands),
            rows: self.rows.unwrap_or(p.rows),
            seed: self.seed,
            norm: self.norm.clone(),
        })
    }

    /// The clustering options.
    pub fn cluster_options(&self) -> ClusterOptions {
        ClusterOptions {
            keeper: self.keeper,
            verify_jaccard: self.verify_jaccard,
            budget_bytes: self.budget_bytes(),
        }
    }

    fn budget_bytes(&self) -> u64 {
        self.memory_budget_mb.saturating_mul(1 << 20)
    }

    /// Builds the step itself (typed, for callers that want its extra methods).
    pub fn build_step(self) -> Result<MinhashDedup> {
        MinhashDedup::new(self)
    }
}

impl StepConfig for MinhashDedupConfig {
    /// A known profile; shape counts at least 1 and at most 65536 hash functions;
    /// `verify_jaccard` a fraction; a memory budget; the options each stage needs.
    fn validate(&self) -> Result<()> {
        let p = self.signature_params().map_err(|_| {
            let names: Vec<_> = PROFILES.iter().map(|p| p.name).collect();
            Error::config(
                STEP,
                format!(
                    "`profile` = \"{}\" is unknown (known: {})",
                    self.profile,
                    names.join(", ")
                ),
            )
        })?;
        for (key, v) in [("n_grams", p.n_grams), ("bands", p.bands), ("rows", p.rows)] {
            check_at_least(STEP, key, v, 1)?;
        }
        let n = p.bands.saturating_mul(p.rows);
        if n > 1 << 16 {
            return Err(Error::config(
                STEP,
                format!("`bands` x `rows` = {n} hash functions is more than 65536"),
            ));
        }
        if let Some(t) = self.verify_jaccard {
            check_fraction(STEP, "verify_jaccard", t)?;
        }
        check_at_least(STEP, "memory_budget_mb", self.memory_budget_mb, 1)?;
        if self.keeper == Keeper::Priority && self.priority_field.is_none() {
            return Err(Error::config(
                STEP,
                "`keeper` = \"priority\" needs `priority_field`",
            ));
        }
        if self.stage == Stage::Single && self.shard_index != 0 {
            return Err(Error::config(
                STEP,
                "`shard_index` needs `stage` = \"signatures\" or \"filter\"",
            ));
        }
        if self.stage != Stage::Single && self.work_dir.is_none() {
            return Err(Error::config(
                STEP,
                "`stage` = \"signatures\" and \"filter\" need `work_dir` (shared by all shards)",
            ));
        }
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(MinhashDedup::new(self)?))
    }
}

/// The text that identifies signature parameters in shard manifests.
fn params_fingerprint(p: &SignatureParams) -> String {
    format!(
        "xxh64 ngrams={} bands={} rows={} seed={} norm={:?}",
        p.n_grams, p.bands, p.rows, p.seed, p.norm
    )
}

/// The `minhash_dedup` step. See the module docs.
pub struct MinhashDedup {
    cfg: MinhashDedupConfig,
    hasher: MinHasher,
    /// The band files' folder: `work_dir` when set; else the run's folder for this step
    /// (`set_work_dir`); else, for a caller outside a run, a temporary folder held (and
    /// removed) with the step.
    work_dir: OnceLock<std::result::Result<(PathBuf, Option<tempfile::TempDir>), String>>,
    writer: OnceLock<std::result::Result<ShardWriter, String>>,
    decisions: OnceLock<std::result::Result<Decisions, String>>,
    report: Mutex<Map<String, Value>>,
}

thread_local! {
    static SCRATCH: RefCell<(SigScratch, Vec<u64>)> = RefCell::new((SigScratch::default(), Vec::new()));
}

impl MinhashDedup {
    /// Validates the parameters and prepares the work directory.
    pub fn new(cfg: MinhashDedupConfig) -> Result<Self> {
        cfg.validate()?;
        let params = cfg.signature_params()?;
        let hasher = MinHasher::new(params)?;
        if let Some(t) = cfg.verify_jaccard {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::config(STEP, "verify_jaccard must be within 0..=1"));
            }
        }
        if cfg.keeper == Keeper::Priority && cfg.priority_field.is_none() {
            return Err(Error::config(
                STEP,
                "keeper = \"priority\" needs priority_field",
            ));
        }
        if cfg.memory_budget_mb == 0 {
            return Err(Error::config(STEP, "memory_budget_mb must be at least 1"));
        }
        if cfg.stage == Stage::Single && cfg.shard_index != 0 {
            return Err(Error::config(
                STEP,
                "shard_index needs stage = \"signatures\" or \"filter\"",
            ));
        }
        let work_dir = OnceLock::new();
        match (&cfg.work_dir, cfg.stage) {
            (Some(d), _) => {
                let _ = work_dir.set(Ok((d.clone(), None)));
            }
            (None, Stage::Single) => {} // the run's folder, given before the run
            (None, _) => {
                return Err(Error::config(
                    STEP,
                    "stages `signatures` and `filter` need work_dir (shared by all shards)",
                ))
            }
        }
        Ok(MinhashDedup {
            cfg,
            hasher,
            work_dir,
            writer: OnceLock::new(),
            decisions: OnceLock::new(),
            report: Mutex::new(Map::new()),
        })
    }

    /// The directory band files are written to.
    pub fn work_dir(&self) -> Result<&Path> {
        let d = self.work_dir.get_or_init(|| {
            let t = tempfile::Builder::new()
                .prefix("thresher-minhash-")
                .tempdir()
                .map_err(|e| Error::io(std::env::temp_dir(), e).to_string())?;
            Ok((t.path().to_path_buf(), Some(t)))
        });
        match d {
            Ok((p, _)) => Ok(p),
            Err(e) => Err(Error::Other(e.clone())),
        }
    }

    fn shard(&self) -> u32 {
        match self.cfg.stage {
            Stage::Single => 0,
            _ => self.cfg.shard_index,
        }
    }

    fn writer(&self) -> Result<&ShardWriter> {
        let w = self.writer.get_or_init(|| {
            let dir = self.work_dir().map_err(|e| e.to_string())?;
            ShardWriter::create(
                &lsh::shard_dir(dir, self.shard()),
                self.shard(),
                params_fingerprint(self.hasher.params()),
                self.hasher.params().bands,
                // Band records get the budget less a margin for merge buffers and tables.
                self.cfg.budget_bytes() / 10 * 6,
                self.cfg.verify_jaccard.is_some(),
            )
            .map_err(|e| e.to_string())
        });
        w.as_ref().map_err(|e| Error::Other(e.clone()))
    }

    fn priority(&self, doc: &Document) -> f64 {
        let Some(field) = &self.cfg.priority_field else {
            return f64::NEG_INFINITY;
        };
        match doc.metadata.get(field) {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NEG_INFINITY),
            Some(Value::String(s)) => s.trim().parse().unwrap_or(f64::NEG_INFINITY),
            Some(Value::Bool(b)) => f64::from(u8::from(*b)),
            _ => f64::NEG_INFINITY,
        }
    }

    fn set_report(&self, key: &str, v: impl Into<Value>) {
        let mut r = self.report.lock().unwrap_or_else(|e| e.into_inner());
        r.insert(key.into(), v.into());
    }

    fn decisions(&self) -> std::result::Result<&Decisions, String> {
        let d = self.decisions.get_or_init(|| {
            if self.cfg.stage != Stage::Filter {
                return Err("minhash_dedup: process called before end_observe".into());
            }
            let dir = self.work_dir().map_err(|e| e.to_string())?;
            let path = lsh::shard_dir(dir, self.shard()).join("decisions.bin");
            Decisions::load(&path)
                .map_err(|e| format!("{e} (has the cluster stage run over {}?)", dir.display()))
        });
        d.as_ref().map_err(Clone::clone)
    }

    fn merge_report(&self, rep: &ClusterReport, secs: f64) {
        if let Ok(Value::Object(m)) = serde_json::to_value(rep) {
            let mut r = self.report.lock().unwrap_or_else(|e| e.into_inner());
            r.extend(m);
            // Under `seconds`, where timings go in stats.json (and what output comparisons skip).
            r.insert("seconds".into(), serde_json::json!({ "cluster": secs }));
        }
    }
}

impl Step for MinhashDedup {
    fn name(&self) -> &str {
        STEP
    }

    fn mode(&self) -> StepMode {
        match self.cfg.stage {
            Stage::Filter => StepMode::Parallel,
            _ => StepMode::TwoPass,
        }
    }

    fn set_work_dir(&self, dir: &Path) -> Result<()> {
        if self.cfg.work_dir.is_none() {
            // Set once, before the run; a second call keeps the first folder.
            let _ = self.work_dir.set(Ok((dir.to_path_buf(), None)));
        }
        Ok(())
    }

    fn observe(&self, doc: &Document) -> Result<()> {
        if self.cfg.stage == Stage::Filter {
            return Ok(());
        }
        let writer = self.writer()?;
        let node = node_id(self.shard(), doc.seq)?;
        let priority = self.priority(doc);
        let verify = self.cfg.verify_jaccard.is_some();
        SCRATCH.with(|s| {
            let mut guard = s.borrow_mut();
            let (scratch, sig) = &mut *guard;
            self.hasher.signature(doc.text(), scratch, sig);
            if verify {
                scratch.sort_dedup();
            }
            let r = writer.add(&DocEntry {
                node,
                id: &doc.id,
                priority,
                signature: sig,
                shingles: if verify { &scratch.shingles } else { &[] },
            });
            // One huge page must not pin its shingle hashes for the rest of the run.
            if scratch.shingles.capacity() > 1 << 18 {
                scratch.shingles = Vec::new();
            }
            r
        })
    }

    fn end_observe(&self) -> Result<()> {
        if self.cfg.stage == Stage::Filter {
            return Ok(());
        }
        let writer = self.writer()?;
        let manifest = writer.finish()?;
        self.set_report("memory_budget_bytes", self.cfg.budget_bytes());
        self.set_report("peak_band_buffer_bytes", writer.peak_buffer_bytes());
        self.set_report("spilled_runs", manifest.runs as u64);
        if self.cfg.work_dir.is_some() {
            // A temporary directory's random name would make reports differ from run to run.
            self.set_report("work_dir", self.work_dir()?.display().to_string());
        }
        if self.cfg.stage == Stage::Signatures {
            self.set_report("docs_seen", manifest.docs_seen);
            self.set_report("docs_signed", manifest.docs_signed);
            return Ok(());
        }
        let t0 = Instant::now();
        let dir = lsh::shard_dir(self.work_dir()?, 0);
        let (decisions, rep) = lsh::cluster(&[dir], &self.cfg.cluster_options())?;
        self.merge_report(&rep, t0.elapsed().as_secs_f64());
        let _ = self.decisions.set(Ok(decisions));
        Ok(())
    }

    fn process(&self, mut doc: Document, _cx: &mut StepCx) -> Outcome {
        if self.cfg.stage == Stage::Signatures {
            return Outcome::Keep(doc);
        }
        let decisions = match self.decisions() {
            Ok(d) => d,
            Err(e) => return Outcome::error(doc, e),
        };
        let node = match node_id(self.shard(), doc.seq) {
            Ok(n) => n,
            Err(e) => return Outcome::error(doc, e.to_string()),
        };
        let fate = decisions.fate(node);
        let (size, cluster_id) = match fate {
            Fate::Keep { size } => (size, doc.id.clone()),
            Fate::Remove { size, keeper } => (size, keeper.to_string()),
        };
        doc.annotate(STEP, "cluster_id", cluster_id.clone());
        doc.annotate(STEP, "cluster_size", size);
        if self.cfg.cluster_metadata {
            // With datatrove's keeper, datatrove's numbers: -1 for a document alone.
            let id = match decisions.datatrove_cluster_id(node) {
                Some(n) => Value::from(n),
                None => Value::from(cluster_id.clone()),
            };
            doc.metadata.insert("minhash_cluster_id".into(), id);
            doc.metadata
                .insert("minhash_cluster_size".into(), size.into());
        }
        match fate {
            Fate::Keep { .. } => Outcome::Keep(doc),
            Fate::Remove { .. } => {
                Outcome::reject(doc, Reason::new("minhash_dedup:duplicate", cluster_id))
            }
        }
    }

    fn report(&self) -> Map<String, Value> {
        self.report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsh::tests::corpus;
    use rayon::prelude::*;

    fn docs(n: usize) -> Vec<Document> {
        corpus(n, 21)
            .into_iter()
            .enumerate()
            .map(|(i, (id, text))| {
                let mut d = Document::new(id, text);
                d.seq = i as u64;
                d
            })
            .collect()
    }

    /// (id, removed?, reason value or cluster id, cluster size) for every document, in order.
    fn run(
        step: &MinhashDedup,
        docs: &[Document],
        parallel: bool,
    ) -> Vec<(String, bool, Value, Value)> {
        if parallel {
            // Reverse order, several threads: observe must not care.
            let rev: Vec<&Document> = docs.iter().rev().collect();
            rev.par_iter().for_each(|d| step.observe(d).unwrap());
        } else {
            docs.iter().for_each(|d| step.observe(d).unwrap());
        }
        step.end_observe().unwrap();
        docs.iter()
            .map(|d| outcome_row(step.process(d.clone(), &mut StepCx::default())))
            .collect()
    }

    fn outcome_row(o: Outcome) -> (String, bool, Value, Value) {
        match o {
            Outcome::Keep(d) => {
                let a = &d.annotations[STEP];
                (
                    d.id.clone(),
                    false,
                    a["cluster_id"].clone(),
                    a["cluster_size"].clone(),
                )
            }
            Outcome::Reject { doc, reason } => {
                assert_eq!(reason.code, "minhash_dedup:duplicate");
                let a = &doc.annotations[STEP];
                assert_eq!(a["cluster_id"], reason.value);
                (
                    doc.id.clone(),
                    true,
                    reason.value,
                    a["cluster_size"].clone(),
                )
            }
            Outcome::Error { error, .. } => panic!("{error}"),
        }
    }

    #[test]
    fn result_does_not_depend_on_threads_or_observe_order() {
        let docs = docs(400);
        let a = run(
            &MinhashDedupConfig::default().build_step().unwrap(),
            &docs,
            false,
        );
        let b = run(
            &MinhashDedupConfig::default().build_step().unwrap(),
            &docs,
            true,
        );
        assert_eq!(a, b);
        let removed = a.iter().filter(|r| r.1).count();
        assert!(removed >= 60, "planted copies removed: {removed}");
        // Every removed document names a kept one of the same cluster size.
        for r in a.iter().filter(|r| r.1) {
            let keeper = a.iter().find(|k| r.2 == k.0.as_str()).unwrap();
            assert!(!keeper.1);
            assert_eq!(keeper.3, r.3);
        }
    }

    #[test]
    fn sharded_stages_equal_single_run() {
        let docs = docs(300);
        let single = run(
            &MinhashDedupConfig::default().build_step().unwrap(),
            &docs,
            false,
        );
        let tmp = tempfile::tempdir().unwrap();
        let cuts = [0usize, 90, 200, 300];
        let shard_cfg = |stage, s| MinhashDedupConfig {
            work_dir: Some(tmp.path().to_path_buf()),
            stage,
            shard_index: s,
            memory_budget_mb: 1,
            ..MinhashDedupConfig::default()
        };
        // Stage 1, one "process" per shard, each numbering its documents from 0.
        let shard_docs: Vec<Vec<Document>> = cuts
            .windows(2)
            .map(|w| {
                docs[w[0]..w[1]]
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let mut d = d.clone();
                        d.seq = i as u64;
                        d
                    })
                    .collect()
            })
            .collect();
        for (s, part) in shard_docs.iter().enumerate() {
            let step = shard_cfg(Stage::Signatures, s as u32).build_step().unwrap();
            part.iter().for_each(|d| step.observe(d).unwrap());
            step.end_observe().unwrap();
            for d in part {
                assert!(matches!(
                    step.process(d.clone(), &mut StepCx::default()),
                    Outcome::Keep(_)
                ));
            }
        }
        // Stage 2.
        let rep = crate::lsh::cluster_work_dir(
            tmp.path(),
            &MinhashDedupConfig::default().cluster_options(),
        )
        .unwrap();
        assert_eq!(rep.shards, 3);
        // Stage 3.
        let mut sharded = Vec::new();
        for (s, part) in shard_docs.iter().enumerate() {
            let step = shard_cfg(Stage::Filter, s as u32).build_step().unwrap();
            assert_eq!(step.mode(), StepMode::Parallel);
            for d in part {
                sharded.push(outcome_row(step.process(d.clone(), &mut StepCx::default())));
            }
        }
        assert_eq!(single, sharded);
    }

    #[test]
    fn priority_keeper_and_metadata() {
        let mut docs = docs(60);
        docs[33] = {
            let mut d = Document::new("late-but-preferred", docs[12].text().to_string());
            d.seq = 33;
            d.metadata.insert("score".into(), 9.5.into());
            d
        };
        let cfg = MinhashDedupConfig {
            keeper: Keeper::Priority,
            priority_field: Some("score".into()),
            cluster_metadata: true,
            ..MinhashDedupConfig::default()
        };
        let step = cfg.build_step().unwrap();
        docs.iter().for_each(|d| step.observe(d).unwrap());
        step.end_observe().unwrap();
        match step.process(docs[12].clone(), &mut StepCx::default()) {
            Outcome::Reject { reason, doc } => {
                assert_eq!(reason.value, "late-but-preferred");
                assert_eq!(doc.metadata["minhash_cluster_id"], "late-but-preferred");
            }
            o => panic!("{o:?}"),
        }
        match step.process(docs[33].clone(), &mut StepCx::default()) {
            // Doc 12 may also have a planted copy: the cluster has at least the two.
            Outcome::Keep(d) => assert!(d.metadata["minhash_cluster_size"].as_u64() >= Some(2)),
            o => panic!("{o:?}"),
        }
        assert!(step.report().contains_key("candidate_pairs"));
    }

    /// With datatrove's keeper the metadata ids are datatrove's: -1 alone, else the cluster's
    /// number, clusters numbered from 0 by their first document.
    #[test]
    fn datatrove_keeper_writes_datatrove_cluster_ids() {
        let docs = docs(200);
        let step = MinhashDedupConfig {
            keeper: Keeper::Datatrove,
            cluster_metadata: true,
            ..MinhashDedupConfig::default()
        }
        .build_step()
        .unwrap();
        docs.iter().for_each(|d| step.observe(d).unwrap());
        step.end_observe().unwrap();
        let mut number_of_cluster: std::collections::HashMap<String, i64> = Default::default();
        let (mut alone, mut clustered) = (0, 0);
        for d in &docs {
            let out = step.process(d.clone(), &mut StepCx::default());
            let doc = out.doc();
            let id = doc.metadata["minhash_cluster_id"].as_i64().unwrap();
            let size = doc.metadata["minhash_cluster_size"].as_u64().unwrap();
            // The cluster as the annotation names it: its kept document's id.
            let keeper = doc.annotations[STEP]["cluster_id"]
                .as_str()
                .unwrap()
                .to_string();
            if size == 1 {
                assert_eq!(id, -1, "{}", doc.id);
                alone += 1;
                continue;
            }
            clustered += 1;
            let next = number_of_cluster.len() as i64;
            let n = *number_of_cluster.entry(keeper).or_insert(next);
            assert_eq!(id, n, "{}: numbered in order of first document", doc.id);
        }
        assert!(
            alone > 50 && clustered > 20,
            "{alone} alone, {clustered} clustered"
        );
    }

    #[test]
    fn config_is_checked() {
        let bad: std::result::Result<MinhashDedupConfig, _> =
            serde_json::from_str(r#"{"bandz": 3}"#);
        assert!(bad.is_err());
        let ok: MinhashDedupConfig = serde_json::from_str(
            r#"{"profile": "fineweb", "rows": 4, "norm": {"lowercase": false}}"#,
        )
        .unwrap();
        assert_eq!(ok.signature_params().unwrap().rows, 4);
        assert_eq!(ok.signature_params().unwrap().bands, 14);
        assert!(!ok.signature_params().unwrap().norm.lowercase);
        for cfg in [
            MinhashDedupConfig {
                profile: "nope".into(),
                ..Default::default()
            },
            MinhashDedupConfig {
                bands: Some(0),
                ..Default::default()
            },
            MinhashDedupConfig {
                keeper: Keeper::Priority,
                ..Default::default()
            },
            MinhashDedupConfig {
                verify_jaccard: Some(1.5),
                ..Default::default()
            },
            MinhashDedupConfig {
                stage: Stage::Filter,
                ..Default::default()
            },
            MinhashDedupConfig {
                shard_index: 2,
                ..Default::default()
            },
        ] {
            assert!(cfg.build_step().is_err());
        }
    }

    #[test]
    fn docs_s_curve_table_matches_the_formula() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/dedup.md");
        let doc = std::fs::read_to_string(path).unwrap();
        // Rows look like `| 0.70 | 0.565 | 0.975 |`: similarity, then one column per profile.
        let mut rows = 0;
        for line in doc.lines() {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let Some(Ok(s)) = cells.first().map(|c| c.parse::<f64>()) else {
                continue;
            };
            if cells.len() != 1 + PROFILES.len() {
                continue;
            }
            for (p, cell) in PROFILES.iter().zip(&cells[1..]) {
                let want = catch_probability(s, p.bands, p.rows);
                let got: f64 = cell.parse().unwrap();
                assert!(
                    (want - got).abs() < 0.0006,
                    "{} at {s}: {got} vs {want}",
                    p.name
                );
            }
            rows += 1;
        }
        assert!(rows >= 10, "S-curve table not found in docs/dedup.md");
    }

    #[test]
    fn process_before_end_observe_is_an_error_not_a_panic() {
        let step = MinhashDedupConfig::default().build_step().unwrap();
        let d = Document::new("a", "one two three four five six");
        assert!(matches!(
            step.process(d, &mut StepCx::default()),
            Outcome::Error { .. }
        ));
    }
}
