//! Helpers shared by the integration tests: the repair steps of the bundled `default` recipe and
//! a small driver that runs them the way the executor does.

use std::path::PathBuf;

use thresher_core::{Document, Outcome, Step, StepConfig, StepCx, StepMode};
use thresher_repair::{
    CollapseRepeatsConfig, CorpusBoilerplateConfig, FlagEncodingDamageConfig, StripChromeConfig,
};

/// The workspace root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared` next to the repository, or `None` (after saying so) when it is absent.
pub fn shared_dir(what: &str) -> Option<PathBuf> {
    let p = repo_root().join("../shared").join(what);
    if p.exists() {
        Some(p)
    } else {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        eprintln!("skipping: ../shared/{what} absent");
        None
    }
}

fn build<C: StepConfig>(table: toml::Table) -> Box<dyn Step> {
    let cfg: C = toml::Value::Table(table)
        .try_into()
        .unwrap_or_else(|e| panic!("bad step params in default.toml: {e}"));
    cfg.build()
        .unwrap_or_else(|e| panic!("step does not build: {e}"))
}

/// The repair steps of `crates/thresher/recipes/default.toml`, in the recipe's order and with its
/// parameters (the other steps of the recipe are not this crate's and are skipped).
pub fn default_recipe_repair_steps() -> Vec<Box<dyn Step>> {
    default_recipe_steps(false)
}

/// The steps of the `default` recipe that this crate's tests can build: the repair steps and,
/// with `with_filters`, the quality filters (thresher-filters) that follow them.
pub fn default_recipe_steps(with_filters: bool) -> Vec<Box<dyn Step>> {
    let path = repo_root().join("crates/thresher/recipes/default.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let recipe: toml::Table = text.parse().unwrap_or_else(|e| panic!("default.toml: {e}"));
    let steps = recipe
        .get("step")
        .and_then(|s| s.as_array())
        .expect("default.toml has [[step]] tables");
    let mut out = Vec::new();
    for s in steps {
        let mut t = s.as_table().expect("[[step]] is a table").clone();
        let ty = t
            .remove("type")
            .and_then(|v| v.as_str().map(String::from))
            .expect("step has a type");
        match ty.as_str() {
            "collapse_repeats" => out.push(build::<CollapseRepeatsConfig>(t)),
            "strip_chrome" => out.push(build::<StripChromeConfig>(t)),
            "flag_encoding_damage" => out.push(build::<FlagEncodingDamageConfig>(t)),
            "corpus_boilerplate" if std::env::var_os("REPAIR_SKIP_BOILERPLATE").is_none() => {
                out.push(build::<CorpusBoilerplateConfig>(t))
            }
            "gopher_repetition" if with_filters => {
                out.push(build::<thresher_filters::GopherRepetitionConfig>(t))
            }
            "gopher_quality" if with_filters => {
                out.push(build::<thresher_filters::GopherQualityConfig>(t))
            }
            "c4_quality" if with_filters => out.push(build::<thresher_filters::C4QualityConfig>(t)),
            "fineweb_quality" if with_filters => {
                out.push(build::<thresher_filters::FineWebQualityConfig>(t))
            }
            _ => {}
        }
    }
    out
}

/// Runs `steps` over `docs` as the executor does: parallel steps document by document, two-pass
/// steps observe everything first. Returns the kept documents' texts (rejected ones as `None`).
pub fn run_steps(steps: &[Box<dyn Step>], docs: Vec<Document>) -> Vec<Option<Document>> {
    let mut cur: Vec<Option<Document>> = docs.into_iter().map(Some).collect();
    let mut cx = StepCx::default();
    for step in steps {
        if step.mode() == StepMode::TwoPass {
            for d in cur.iter().flatten() {
                step.observe(d).expect("observe");
            }
            step.end_observe().expect("end_observe");
        }
        cur = cur
            .into_iter()
            .map(|d| {
                d.and_then(|d| match step.process(d, &mut cx) {
                    Outcome::Keep(d) => Some(d),
                    _ => None,
                })
            })
            .collect();
    }
    cur
}
