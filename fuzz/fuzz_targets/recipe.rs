//! The recipe parser and step building on arbitrary text.
//!
//! The promise checked: no panic; a recipe that parses either builds its steps or gives an
//! error naming a line of the recipe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thresher::Recipe;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count().max(1);
    match Recipe::parse("fuzz.toml", text) {
        Ok(recipe) => {
            if let Err(e) = recipe.build_steps() {
                let line = e.line.expect("a step error names its line");
                assert!(
                    line >= 1 && line <= lines + 1,
                    "line {line} of {lines}: {e}"
                );
            }
        }
        Err(e) => {
            if let Some(line) = e.line {
                assert!(
                    line >= 1 && line <= lines + 1,
                    "line {line} of {lines}: {e}"
                );
            }
        }
    }
});
