//! `--set STEP.KEY=VALUE`: change a step's parameter after the recipe is loaded, so that one
//! recipe file serves every shard of a run (`--set minhash_dedup.stage=filter`).
//!
//! Addressing:
//! - `TYPE.KEY=VALUE`: the step of that type (`minhash_dedup.shard_index=3`); refused when the
//!   recipe has no such step, or more than one (then use the next form);
//! - `steps.N.KEY=VALUE`: the recipe's `N`-th `[[step]]`, counted from 1 as in error messages
//!   (`steps.2.threshold=0.5`);
//! - `KEY` may be dotted to reach into a table parameter (`TYPE.table.key=VALUE`).
//!
//! `VALUE` is read as a TOML value (`3`, `0.5`, `true`, `"text"`, `[1, 2]`); anything that is
//! not one is taken as a string, so `stage=filter` needs no quotes. The changed step is checked
//! as the recipe's own steps are: an unknown key or a bad value is an error naming the valid
//! keys or the constraint. The assignment is appended to the recipe's text as a comment, so a
//! `--resume` with other overrides is refused like one with another recipe.

use crate::recipe::{Recipe, RecipeError};
use crate::registry::{self, BuildError};

/// One parsed `--set` assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The step it addresses, as written (`minhash_dedup` or `steps.2`).
    pub target: Target,
    /// The parameter's path (one element unless dotted).
    pub key: Vec<String>,
    /// The new value.
    pub value: toml::Value,
}

/// Which step an assignment addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The only step of this type.
    Type(String),
    /// The `[[step]]` at this 1-based position.
    Index(usize),
}

/// Parses `STEP.KEY=VALUE` (see the module docs).
pub fn parse(assignment: &str) -> Result<Assignment, String> {
    let usage = "expected STEP.KEY=VALUE, e.g. minhash_dedup.stage=filter or steps.2.key=value";
    let (lhs, value) = assignment
        .split_once('=')
        .ok_or_else(|| format!("`{assignment}`: {usage}"))?;
    let mut parts: Vec<&str> = lhs.trim().split('.').collect();
    if parts.iter().any(|p| p.is_empty()) || parts.len() < 2 {
        return Err(format!("`{assignment}`: {usage}"));
    }
    let target = if parts[0] == "steps" {
        let n = parts
            .get(1)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("`{assignment}`: `steps.N` counts steps from 1"))?;
        if parts.len() < 3 {
            return Err(format!("`{assignment}`: {usage}"));
        }
        parts.drain(..2);
        Target::Index(n)
    } else {
        Target::Type(parts.remove(0).to_string())
    };
    Ok(Assignment {
        target,
        key: parts.into_iter().map(str::to_string).collect(),
        value: parse_value(value.trim()),
    })
}

/// A TOML value, or the text as a string when it is not one.
fn parse_value(text: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

impl Recipe {
    /// Applies `--set` assignments in order, checking each changed step. Returns the 0-based
    /// index of the step each assignment changed.
    pub fn apply_sets(&mut self, assignments: &[String]) -> Result<Vec<usize>, RecipeError> {
        let mut changed = Vec::new();
        for a in assignments {
            let err = |message: String| RecipeError {
                origin: format!("--set {a}"),
                line: None,
                message,
            };
            let parsed = parse(a).map_err(err)?;
            let i = self.step_index(&parsed.target).map_err(err)?;
            let spec = &mut self.steps[i];
            let mut table = &mut spec.params;
            let (last, path) = parsed.key.split_last().expect("parse gives a key");
            for k in path {
                let entry = table
                    .entry(k.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                table = entry.as_table_mut().ok_or_else(|| {
                    err(format!("`{k}` of step `{}` is not a table", spec.type_name))
                })?;
            }
            table.insert(last.clone(), parsed.value);
            match registry::check_step(&spec.type_name, spec.params.clone()) {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    let message = match e {
                        BuildError::Params { error, .. } => error.message().to_string(),
                        BuildError::Invalid(thresher_core::Error::Config { message, .. }) => {
                            message
                        }
                        BuildError::Invalid(other) => other.to_string(),
                    };
                    return Err(err(format!("step `{}`: {message}", spec.type_name)));
                }
                None => return Err(err(format!("no step type `{}`", spec.type_name))),
            }
            self.text.push_str(&format!("\n# --set {a}\n"));
            changed.push(i);
        }
        Ok(changed)
    }

    /// The 0-based index of the step `target` addresses.
    fn step_index(&self, target: &Target) -> Result<usize, String> {
        match target {
            Target::Index(n) if *n <= self.steps.len() => Ok(n - 1),
            Target::Index(n) => Err(format!(
                "the recipe has {} steps, so there is no step {n}",
                self.steps.len()
            )),
            Target::Type(t) => {
                let found: Vec<usize> = (0..self.steps.len())
                    .filter(|&i| self.steps[i].type_name == *t)
                    .collect();
                match found.as_slice() {
                    [i] => Ok(*i),
                    [] => {
                        let names: Vec<&str> =
                            self.steps.iter().map(|s| s.type_name.as_str()).collect();
                        Err(format!(
                            "the recipe has no `{t}` step (its steps: {})",
                            names.join(", ")
                        ))
                    }
                    many => Err(format!(
                        "the recipe has {} `{t}` steps (steps {}): address one as steps.N.KEY",
                        many.len(),
                        many.iter()
                            .map(|i| (i + 1).to_string())
                            .collect::<Vec<_>>()
                            .join(" and ")
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPE: &str = "[[step]]\ntype = \"exact_dedup\"\n\n[[step]]\ntype = \"minhash_dedup\"\n\
                          work_dir = \"/tmp/w\"\n\n[[step]]\ntype = \"exact_dedup\"\n";

    fn recipe() -> Recipe {
        Recipe::parse("r.toml", RECIPE).unwrap()
    }

    #[test]
    fn values_are_toml_or_strings() {
        assert_eq!(parse_value("3"), toml::Value::Integer(3));
        assert_eq!(parse_value("0.5"), toml::Value::Float(0.5));
        assert_eq!(parse_value("true"), toml::Value::Boolean(true));
        assert_eq!(parse_value("\"a b\""), toml::Value::String("a b".into()));
        assert_eq!(parse_value("filter"), toml::Value::String("filter".into()));
        assert_eq!(parse_value("/x/y"), toml::Value::String("/x/y".into()));
        assert_eq!(
            parse_value("[1, 2]"),
            toml::Value::Array(vec![1.into(), 2.into()])
        );
    }

    #[test]
    fn sets_by_type_and_by_index() {
        let mut r = recipe();
        let text = r.text.clone();
        let changed = r
            .apply_sets(&[
                "minhash_dedup.stage=signatures".into(),
                "minhash_dedup.shard_index=3".into(),
                "steps.3.normalize=false".into(),
            ])
            .unwrap();
        assert_eq!(changed, vec![1, 1, 2]);
        assert_eq!(r.steps[1].params["stage"].as_str(), Some("signatures"));
        assert_eq!(r.steps[1].params["shard_index"].as_integer(), Some(3));
        assert_eq!(r.steps[2].params["normalize"].as_bool(), Some(false));
        assert!(!r.steps[0].params.contains_key("normalize"));
        // The fingerprint (`text`) changes with the overrides.
        assert_ne!(r.text, text);
        r.build_steps().unwrap();
    }

    #[test]
    fn refusals_say_why() {
        let e = |a: &str| {
            recipe()
                .apply_sets(&[a.to_string()])
                .unwrap_err()
                .to_string()
        };
        let m = e("minhash_dedup.shard_idx=3");
        assert!(
            m.contains("unknown field `shard_idx`") && m.contains("shard_index"),
            "{m}"
        );
        let m = e("exact_dedup.normalize=false");
        assert!(m.contains("2 `exact_dedup` steps (steps 1 and 3)"), "{m}");
        let m = e("gopher_quality.x=1");
        assert!(m.contains("no `gopher_quality` step"), "{m}");
        let m = e("steps.4.x=1");
        assert!(m.contains("no step 4"), "{m}");
        let m = e("steps.0.x=1");
        assert!(m.contains("from 1"), "{m}");
        let m = e("minhash_dedup.stage=sideways");
        assert!(m.contains("unknown variant `sideways`"), "{m}");
        let m = e("minhash_dedup.shard_index=3");
        assert!(m.contains("`shard_index` needs `stage`"), "{m}");
        for bad in [
            "minhash_dedup",
            "minhash_dedup=3",
            ".x=1",
            "steps.2=1",
            "a..b=1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
