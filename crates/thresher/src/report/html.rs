//! The report page: HTML sections with Vega-Lite charts (specifications built here, data
//! inline) drawn by the vendored vega, vega-lite and vega-embed scripts, all in one file.

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::collect::{End, ReportData};

const VEGA: &str = include_str!("vendor/vega.min.js");
const VEGA_LITE: &str = include_str!("vendor/vega-lite.min.js");
const VEGA_EMBED: &str = include_str!("vendor/vega-embed.min.js");

/// Charts drawn at most for the measures of sampled documents.
const MAX_MEASURE_CHARTS: usize = 24;

/// `s` escaped for HTML text and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A script's text made safe to sit inside `<script>`: no `</` can close the element.
fn script_safe(s: &str) -> String {
    s.replace("</", "<\\/")
}

/// A chart of the page.
struct Chart {
    id: String,
    spec: Value,
}

/// The page being built: its HTML body and the charts it places.
#[derive(Default)]
struct Page {
    body: String,
    charts: Vec<Chart>,
}

impl Page {
    fn h2(&mut self, id: &str, title: &str, note: &str) {
        let _ = write!(self.body, "<section id=\"{id}\"><h2>{}</h2>", esc(title));
        if !note.is_empty() {
            let _ = write!(self.body, "<p class=\"note\">{}</p>", esc(note));
        }
    }

    fn end_section(&mut self) {
        self.body.push_str("</section>\n");
    }

    fn p(&mut self, text: &str) {
        let _ = write!(self.body, "<p>{}</p>", esc(text));
    }

    /// Places a chart (a Vega-Lite spec without `$schema`, data inline).
    fn chart(&mut self, mut spec: Value) {
        let id = format!("chart-{}", self.charts.len());
        if let Some(m) = spec.as_object_mut() {
            m.insert(
                "$schema".into(),
                "https://vega.github.io/schema/vega-lite/v6.json".into(),
            );
            m.entry("width").or_insert(json!("container"));
        }
        let _ = write!(self.body, "<div class=\"chart\" id=\"{id}\"></div>");
        self.charts.push(Chart { id, spec });
    }
}

/// Numbers of a JSON object field.
fn u(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn f(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn pct_f(x: f64, of: f64) -> f64 {
    if of > 0.0 {
        100.0 * x / of
    } else {
        0.0
    }
}

fn pct(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        100.0 * n as f64 / of as f64
    }
}

/// The parameters of each step of the run (as run.json records them, over the step's
/// defaults), by step name.
pub(super) fn step_params(run: &Value) -> Vec<(String, Map<String, Value>)> {
    let steps = run
        .pointer("/recipe/steps")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    steps
        .iter()
        .filter_map(|s| {
            let ty = s.get("type")?.as_str()?.to_string();
            let mut params = crate::registry::step_defaults(&ty)
                .and_then(|d| d.as_object().cloned())
                .unwrap_or_default();
            if let Some(given) = s.as_object() {
                for (k, v) in given {
                    params.insert(k.clone(), v.clone());
                }
            }
            Some((ty, params))
        })
        .collect()
}

/// The recipe threshold a reason's value is compared with: the parameter of `params` that
/// names the rule (`rule`, `max_rule`, `min_rule`, `rule_thr`...), or for a too-short/too-long
/// rule the step's only `min_`/`max_` parameter. `None` when no parameter clearly matches.
pub(super) fn threshold(rule: &str, params: &Map<String, Value>) -> Option<(String, f64)> {
    let num = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_f64)
            .map(|x| (k.to_string(), x))
    };
    // Rules whose parameter does not follow from the name (FineWeb's and Gopher's own names).
    const NAMED: &[(&str, &str)] = &[
        ("char_dup_ratio", "char_duplicates_ratio"),
        ("list_ratio", "new_line_ratio"),
        ("gopher_below_alpha_threshold", "max_non_alpha_words_ratio"),
        ("gopher_enough_stop_words", "min_stop_words"),
        ("gopher_too_many_hashes", "max_symbol_word_ratio"),
        ("gopher_too_many_ellipsis", "max_symbol_word_ratio"),
        ("gopher_too_many_bullets", "max_bullet_lines_ratio"),
        ("gopher_too_many_end_ellipsis", "max_ellipsis_lines_ratio"),
        ("gopher_below_avg_threshold", "min_avg_word_length"),
        ("gopher_above_avg_threshold", "max_avg_word_length"),
    ];
    if let Some((_, p)) = NAMED.iter().find(|(r, _)| *r == rule) {
        return num(p);
    }
    // Gopher's n-gram rules: `top_N_gram` and `duplicated_N_n_grams` against the lists
    // `top_n_grams` and `dup_n_grams` of `[N, fraction]`.
    let ngram = |list: &str, n: &str| {
        let n: u64 = n.parse().ok()?;
        params.get(list)?.as_array()?.iter().find_map(|pair| {
            let pair = pair.as_array()?;
            if pair.first()?.as_u64()? != n {
                return None;
            }
            Some((format!("{list}[{n}]"), pair.get(1)?.as_f64()?))
        })
    };
    if let Some(n) = rule
        .strip_prefix("top_")
        .and_then(|r| r.strip_suffix("_gram"))
    {
        return ngram("top_n_grams", n);
    }
    if let Some(n) = rule
        .strip_prefix("duplicated_")
        .and_then(|r| r.strip_suffix("_n_grams"))
    {
        return ngram("dup_n_grams", n);
    }
    let base = rule.strip_prefix("gopher_").unwrap_or(rule);
    let base = base.strip_suffix("_ratio").unwrap_or(base);
    for cand in [
        base.to_string(),
        format!("max_{base}"),
        format!("min_{base}"),
        format!("{base}_thr"),
        format!("{base}_threshold"),
        format!("max_{base}_ratio"),
        format!("min_{base}_ratio"),
    ] {
        if let Some(t) = num(&cand) {
            return Some(t);
        }
    }
    // A rule named after what is too small or too large: the single bound of that side whose
    // name shares a word with the rule (or the only one).
    let side = if ["too_few", "too_short", "short", "few", "low"]
        .iter()
        .any(|w| base.contains(w))
    {
        "min_"
    } else if ["too_many", "too_long", "long", "many", "high"]
        .iter()
        .any(|w| base.contains(w))
    {
        "max_"
    } else {
        return None;
    };
    let words: Vec<&str> = base.split('_').filter(|w| w.len() > 2).collect();
    let bounds: Vec<&String> = params
        .keys()
        .filter(|k| k.starts_with(side) && params[k.as_str()].is_number())
        .collect();
    let sharing: Vec<&String> = bounds
        .iter()
        .copied()
        .filter(|k| words.iter().any(|w| k.split('_').any(|kw| kw == *w)))
        .collect();
    match (sharing.as_slice(), bounds.as_slice()) {
        ([k], _) | ([], [k]) => num(k),
        _ => None,
    }
}

/// A histogram of `field` in `values` (objects), coloured by `color` if given, with a rule at
/// each threshold.
fn histogram(
    title: &str,
    values: Value,
    field: &str,
    axis: &str,
    color: Option<&str>,
    rules: &[(String, f64)],
    log_x: bool,
) -> Value {
    let x_field = if log_x { "log10" } else { field };
    let mut transform = Vec::new();
    if log_x {
        transform.push(json!({"calculate": format!("log(max(datum['{field}'], 0) + 1) / LN10"), "as": "log10"}));
    }
    let mut bars = json!({
        "mark": {"type": "bar", "tooltip": true},
        "encoding": {
            "x": {"field": x_field, "bin": {"maxbins": 40}, "type": "quantitative", "title": axis},
            "y": {"aggregate": "count", "type": "quantitative", "title": "documents (sample)"},
        },
    });
    if let Some(c) = color {
        bars["encoding"]["color"] = json!({"field": c, "type": "nominal",
            "scale": {"domain": ["kept", "rejected", "error"], "range": ["#4c78a8", "#e45756", "#b279a2"]}});
    }
    let mut layers = vec![bars];
    if !rules.is_empty() {
        let data: Vec<Value> = rules
            .iter()
            .map(|(name, x)| {
                let pos = if log_x {
                    (x.max(0.0) + 1.0).log10()
                } else {
                    *x
                };
                json!({"threshold": name, "x": pos, "value": x})
            })
            .collect();
        layers.push(json!({
            "data": {"values": data},
            "mark": {"type": "rule", "color": "#222", "strokeDash": [6, 3], "strokeWidth": 2},
            "encoding": {"x": {"field": "x", "type": "quantitative"},
                         "tooltip": [{"field": "threshold"}, {"field": "value"}]},
        }));
    }
    json!({
        "title": title,
        "height": 160,
        "data": {"values": values},
        "transform": transform,
        "layer": layers,
    })
}

/// The whole report page for a run: its `stats.json` and `run.json` values and the data
/// gathered while it ran (`None` for a run without `report-data.json`).
pub fn render(stats: &Value, run: &Value, data: Option<&ReportData>) -> String {
    let mut page = Page::default();
    let empty = ReportData::default();
    let data = data.unwrap_or(&empty);
    let steps = stats
        .get("steps")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let docs_in = u(stats, "in");
    overview(&mut page, stats, run, &steps);
    funnel(&mut page, docs_in, &steps);
    reasons(&mut page, &steps, run, data);
    distributions(&mut page, data);
    edits(&mut page, &steps, data);
    errors(&mut page, stats, data);
    timings(&mut page, stats, &steps);
    examples(&mut page, data);
    if data.docs.is_empty() && data.reasons.is_empty() {
        page.p(
            "This run has no report-data.json (made by an older thresher): the distributions \
             and sample documents are not available.",
        );
    }
    finish(page, run)
}

fn overview(page: &mut Page, stats: &Value, run: &Value, steps: &[Value]) {
    let docs_in = u(stats, "in");
    page.h2("overview", "Overview", "");
    let recipe = run
        .pointer("/recipe/origin")
        .map(|o| match o {
            Value::String(s) => s.clone(),
            o => o.to_string(),
        })
        .unwrap_or_default();
    let secs = f(stats, "seconds");
    let bytes = u(stats, "bytes_in");
    let _ = write!(
        page.body,
        "<table class=\"kv\"><tr><th>recipe</th><td>{}</td></tr>\
         <tr><th>input files</th><td>{}</td></tr>\
         <tr><th>records in</th><td>{docs_in} ({:.1} MB)</td></tr>\
         <tr><th>kept</th><td>{} ({:.1}%)</td></tr>\
         <tr><th>rejected</th><td>{} ({:.1}%)</td></tr>\
         <tr><th>errors</th><td>{} ({:.1}%)</td></tr>\
         <tr><th>time</th><td>{secs:.1} s ({:.1} MB/s)</td></tr>\
         <tr><th>steps</th><td>{}</td></tr>\
         <tr><th>thresher</th><td>{}</td></tr></table>",
        esc(&recipe),
        stats
            .get("files")
            .and_then(Value::as_object)
            .map_or(0, |m| m.len()),
        bytes as f64 / 1e6,
        u(stats, "kept"),
        pct(u(stats, "kept"), docs_in),
        u(stats, "rejected"),
        pct(u(stats, "rejected"), docs_in),
        u(stats, "errors"),
        pct(u(stats, "errors"), docs_in),
        bytes as f64 / secs.max(1e-9) / 1e6,
        esc(&steps
            .iter()
            .filter_map(|s| s.get("name").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" → ")),
        esc(run
            .get("thresher_version")
            .and_then(Value::as_str)
            .unwrap_or("?")),
    );
    page.end_section();
}

fn funnel(page: &mut Page, docs_in: u64, steps: &[Value]) {
    page.h2(
        "funnel",
        "Funnel",
        "Documents left after each step (records that could not be read never reach the first \
         step).",
    );
    let mut rows = vec![json!({"order": 0, "stage": "input", "docs": docs_in, "share": 100.0})];
    for (i, s) in steps.iter().enumerate() {
        let kept = u(s, "kept");
        let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
        rows.push(json!({
            "order": i + 1,
            "stage": format!("{}. {name}", i + 1),
            "docs": kept,
            "share": (pct(kept, docs_in) * 10.0).round() / 10.0,
            "rejected": u(s, "rejected"),
            "errors": u(s, "errors"),
        }));
    }
    let height = 24 * rows.len() as u64 + 20;
    page.chart(json!({
        "height": height,
        "data": {"values": rows},
        "layer": [
            {"mark": {"type": "bar", "color": "#4c78a8", "tooltip": true},
             "encoding": {
                "y": {"field": "stage", "type": "nominal", "sort": {"field": "order"}, "title": null},
                "x": {"field": "docs", "type": "quantitative", "title": "documents"}}},
            {"mark": {"type": "text", "align": "left", "dx": 4},
             "encoding": {
                "y": {"field": "stage", "type": "nominal", "sort": {"field": "order"}},
                "x": {"field": "docs", "type": "quantitative"},
                "text": {"field": "share", "type": "quantitative", "format": ".1f"}}}
        ],
    }));
    page.end_section();
}

fn reasons(page: &mut Page, steps: &[Value], run: &Value, data: &ReportData) {
    page.h2(
        "reasons",
        "Rejections by reason",
        "Documents each step rejected, by reason code.",
    );
    let mut rows = Vec::new();
    for s in steps {
        let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
        if let Some(r) = s.get("reasons").and_then(Value::as_object) {
            for (code, n) in r {
                rows.push(json!({"reason": code, "step": name, "docs": n.as_u64().unwrap_or(0)}));
            }
        }
    }
    if rows.is_empty() {
        page.p("No document was rejected.");
    } else {
        let height = 20 * rows.len() as u64 + 20;
        page.chart(json!({
            "height": height,
            "data": {"values": rows},
            "mark": {"type": "bar", "tooltip": true},
            "encoding": {
                "y": {"field": "reason", "type": "nominal", "sort": "-x", "title": null},
                "x": {"field": "docs", "type": "quantitative", "title": "documents rejected"},
                "color": {"field": "step", "type": "nominal"}},
        }));
    }
    page.end_section();

    // The measured values, with the recipe's threshold.
    page.h2(
        "values",
        "Measured values and thresholds",
        "For each filter rule: the distribution of the value it measured, with the recipe's \
         threshold as a dashed line. Where the recipe annotates every document (metadata \
         `step.rule`), all documents of the sample are drawn, coloured by fate; otherwise the \
         values of the rejected documents (a sample of at most 1000 per reason).",
    );
    let params = step_params(run);
    let mut drawn = 0;
    for (code, r) in &data.reasons {
        let (step, rule) = code.split_once(':').unwrap_or((r.step.as_str(), code));
        let rules: Vec<(String, f64)> = params
            .iter()
            .find(|(ty, _)| ty == step || ty == &r.step)
            .and_then(|(_, p)| threshold(rule, p))
            .into_iter()
            .collect();
        let key = format!("{step}.{rule}");
        let annotated: Vec<Value> = data
            .docs
            .iter()
            .filter_map(|d| {
                d.measures
                    .get(&key)
                    .map(|x| json!({"value": x, "fate": end_name(d.end)}))
            })
            .collect();
        let (values, color, what) = if !annotated.is_empty() {
            (annotated, Some("fate"), "all documents (sample)")
        } else {
            let v: Vec<Value> = r.values.iter().map(|x| json!({ "value": x })).collect();
            (v, None, "rejected documents")
        };
        if values.is_empty() {
            continue;
        }
        let title = match rules.first() {
            Some((p, x)) => format!("{code}: {what}; threshold {p} = {x}"),
            None => format!("{code}: {what}"),
        };
        page.chart(histogram(
            &title,
            json!(values),
            "value",
            rule,
            color,
            &rules,
            false,
        ));
        drawn += 1;
    }
    if drawn == 0 {
        page.p("No rejection carried a numeric value.");
    }
    page.end_section();
}

fn end_name(e: End) -> &'static str {
    match e {
        End::Kept => "kept",
        End::Rejected => "rejected",
        End::Error => "error",
    }
}

fn distributions(page: &mut Page, data: &ReportData) {
    page.h2(
        "distributions",
        "Length, language and scores",
        &format!(
            "From a uniform sample of {} documents (the same whatever the thread count), \
             coloured by fate.",
            data.docs.len()
        ),
    );
    if !data.docs.is_empty() {
        let rows: Vec<Value> = data
            .docs
            .iter()
            .map(|d| json!({"len": d.len, "fate": end_name(d.end)}))
            .collect();
        page.chart(histogram(
            "Document length (log10 of bytes of text)",
            json!(rows),
            "len",
            "log10(bytes)",
            Some("fate"),
            &[],
            true,
        ));
    }
    if !data.languages.is_empty() {
        let mut langs: Vec<(&String, &[u64; 3])> = data.languages.iter().collect();
        langs.sort_by(|a, b| {
            let (ta, tb) = (a.1.iter().sum::<u64>(), b.1.iter().sum::<u64>());
            tb.cmp(&ta).then(a.0.cmp(b.0))
        });
        let mut rows = Vec::new();
        for (lang, c) in langs.iter().take(30) {
            for (k, fate) in ["kept", "rejected", "error"].iter().enumerate() {
                if c[k] > 0 {
                    rows.push(json!({"language": lang, "fate": fate, "docs": c[k]}));
                }
            }
        }
        page.chart(json!({
            "title": "Language (metadata.language; the 30 most frequent)",
            "height": 180,
            "data": {"values": rows},
            "mark": {"type": "bar", "tooltip": true},
            "encoding": {
                "x": {"field": "language", "type": "nominal", "sort": "-y"},
                "y": {"aggregate": "sum", "field": "docs", "type": "quantitative", "title": "documents"},
                "color": {"field": "fate", "type": "nominal",
                          "scale": {"domain": ["kept", "rejected", "error"], "range": ["#4c78a8", "#e45756", "#b279a2"]}}},
        }));
    }
    // Scores and other numeric measures (metadata, annotations).
    let mut keys: Vec<(&String, usize)> = Vec::new();
    for d in &data.docs {
        for k in d.measures.keys() {
            match keys.iter_mut().find(|(kk, _)| *kk == k) {
                Some(e) => e.1 += 1,
                None => keys.push((k, 1)),
            }
        }
    }
    keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (key, _) in keys.iter().take(MAX_MEASURE_CHARTS) {
        let rows: Vec<Value> = data
            .docs
            .iter()
            .filter_map(|d| {
                d.measures
                    .get(*key)
                    .map(|x| json!({"value": x, "fate": end_name(d.end)}))
            })
            .collect();
        page.chart(histogram(
            &format!("{key} ({} documents of the sample)", rows.len()),
            json!(rows),
            "value",
            key,
            Some("fate"),
            &[],
            false,
        ));
    }
    page.end_section();

    page.h2(
        "clusters",
        "Near-duplicate clusters",
        "Clusters found by minhash_dedup, by size (each keeps one document).",
    );
    if data.cluster_sizes.is_empty() {
        page.p("No near-duplicate cluster (or no minhash_dedup step).");
    } else {
        let rows: Vec<Value> = data
            .cluster_sizes
            .iter()
            .map(|(s, n)| json!({"size": s, "clusters": n}))
            .collect();
        page.chart(json!({
            "height": 180,
            "data": {"values": rows},
            "mark": {"type": "bar", "tooltip": true},
            "encoding": {
                "x": {"field": "size", "type": "ordinal", "title": "cluster size (documents)"},
                "y": {"field": "clusters", "type": "quantitative", "scale": {"type": "symlog"}}},
        }));
    }
    page.end_section();
}

fn edits(page: &mut Page, steps: &[Value], data: &ReportData) {
    page.h2(
        "edits",
        "Repair edits",
        "Kept documents whose text each step changed (the repair steps' per-document counts are \
         among the measures above).",
    );
    let rows: Vec<Value> = steps
        .iter()
        .filter(|s| u(s, "edited") > 0)
        .map(|s| json!({"step": s.get("name"), "edited": u(s, "edited"), "in": u(s, "in")}))
        .collect();
    let _ = data;
    if rows.is_empty() {
        page.p("No step edited a text.");
    } else {
        page.chart(json!({
            "height": 24 * rows.len() as u64 + 20,
            "data": {"values": rows},
            "mark": {"type": "bar", "color": "#72b7b2", "tooltip": true},
            "encoding": {
                "y": {"field": "step", "type": "nominal", "title": null},
                "x": {"field": "edited", "type": "quantitative", "title": "documents edited"}},
        }));
    }
    page.end_section();
}

fn errors(page: &mut Page, stats: &Value, data: &ReportData) {
    page.h2(
        "errors",
        "Errors by file",
        "Records that could not be read or processed, per input file, with a few of them.",
    );
    let files = stats
        .get("files")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut with_errors: Vec<(&String, u64, u64)> = files
        .iter()
        .map(|(k, v)| (k, u(v, "errors"), u(v, "in")))
        .filter(|(_, e, _)| *e > 0)
        .collect();
    with_errors.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if with_errors.is_empty() {
        let _ = write!(
            page.body,
            "<p>No errors in {} input files.</p>",
            files.len()
        );
    } else {
        let rows: Vec<Value> = with_errors
            .iter()
            .take(40)
            .map(|(k, e, _)| json!({"file": short_path(k), "errors": e}))
            .collect();
        page.chart(json!({
            "height": 20 * rows.len() as u64 + 20,
            "data": {"values": rows},
            "mark": {"type": "bar", "color": "#b279a2", "tooltip": true},
            "encoding": {
                "y": {"field": "file", "type": "nominal", "sort": "-x", "title": null},
                "x": {"field": "errors", "type": "quantitative", "title": "error records"}},
        }));
        page.body
            .push_str("<table class=\"grid\"><tr><th>file</th><th>errors</th><th>of</th><th>examples (line, step: message)</th></tr>");
        for (file, e, n) in with_errors.iter().take(100) {
            let ex = data
                .errors
                .get(*file)
                .map(|list| {
                    list.iter()
                        .map(|x| format!("{}: {}: {}", x.line, esc(&x.step), esc(&x.message)))
                        .collect::<Vec<_>>()
                        .join("<br>")
                })
                .unwrap_or_default();
            let _ = write!(
                page.body,
                "<tr><td>{}</td><td>{e}</td><td>{n}</td><td class=\"small\">{ex}</td></tr>",
                esc(file)
            );
        }
        page.body.push_str("</table>");
    }
    page.end_section();
}

/// The last two components of a path (chart labels).
fn short_path(p: &str) -> String {
    let parts: Vec<&str> = p.rsplitn(3, '/').collect();
    match parts.as_slice() {
        [a, b, _] => format!("…/{b}/{a}"),
        _ => p.to_string(),
    }
}

fn timings(page: &mut Page, stats: &Value, steps: &[Value]) {
    let total = f(stats, "seconds");
    page.h2(
        "timings",
        "Time per step",
        &format!(
            "The run took {total:.2} s of wall-clock time. Wall time is the part of it the \
             pipeline spent on the step (a two-pass step's observing and spill reading \
             included); thread time is the step's time summed over the worker threads (its \
             processor cost)."
        ),
    );
    let mut rows = Vec::new();
    for s in steps {
        let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
        let wall = s.get("wall_seconds").and_then(Value::as_f64);
        let thread = f(s, "seconds");
        if let Some(w) = wall {
            let share = (pct_f(w, total) * 10.0).round() / 10.0;
            rows.push(json!({"step": name, "kind": "wall", "seconds": w, "share %": share}));
        }
        rows.push(json!({"step": name, "kind": "thread", "seconds": thread}));
    }
    if rows.iter().all(|r| f(r, "seconds") == 0.0) {
        page.p("No step time was recorded.");
    } else {
        page.chart(json!({
            "height": 28 * steps.len() as u64 + 20,
            "data": {"values": rows},
            "mark": {"type": "bar", "tooltip": true},
            "encoding": {
                "y": {"field": "step", "type": "nominal", "sort": null, "title": null},
                "yOffset": {"field": "kind"},
                "x": {"field": "seconds", "type": "quantitative"},
                "color": {"field": "kind", "type": "nominal"}},
        }));
    }
    page.end_section();
}

fn examples(page: &mut Page, data: &ReportData) {
    page.h2(
        "examples",
        "Sample rejected documents",
        "A few rejected documents per reason (a uniform sample); click one to read it (the \
         first 3000 characters).",
    );
    if data.reasons.is_empty() {
        page.p("No rejected documents.");
    }
    for (code, r) in &data.reasons {
        let _ = write!(page.body, "<h3>{}</h3>", esc(code));
        for e in &r.examples {
            let value = match &e.value {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            let _ = write!(
                page.body,
                "<details class=\"doc\"><summary><code>{}</code> value {} · {} bytes · {}:{}</summary><pre>{}</pre></details>",
                esc(&e.id),
                esc(&value),
                e.len,
                esc(&short_path(&e.file)),
                e.line,
                esc(&e.text)
            );
        }
    }
    page.end_section();
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1em 2em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
nav a{margin-right:1em}.note{color:#555;font-size:.92em}.chart{width:100%;margin:.6em 0 1.2em}
table{border-collapse:collapse}.kv th{text-align:left;padding:2px 12px 2px 0;color:#555;font-weight:normal}
.grid td,.grid th{border:1px solid #ddd;padding:3px 6px;vertical-align:top}.small{font-size:.85em}
details.doc{border:1px solid #ddd;border-radius:4px;margin:.3em 0;padding:.2em .6em}
details.doc summary{cursor:pointer}details.doc pre{white-space:pre-wrap;max-height:30em;overflow:auto;background:#f7f7f7;padding:.6em}
";

/// Draws each chart; `window.thresherCharts` resolves with their views once all are drawn
/// (also what the browser test waits for).
const DRAW: &str = "
(function(){
  var charts = JSON.parse(document.getElementById('thresher-charts').textContent);
  window.thresherViews = {};
  window.thresherCharts = Promise.all(charts.map(function(c){
    return vegaEmbed('#' + c.id, c.spec, {actions: false, renderer: 'svg'}).then(function(r){
      window.thresherViews[c.id] = r.view; return r.view;
    });
  }));
})();
";

fn finish(page: Page, run: &Value) -> String {
    let charts: Vec<Value> = page
        .charts
        .iter()
        .map(|c| json!({"id": c.id, "spec": c.spec}))
        .collect();
    let charts = serde_json::to_string(&charts).unwrap_or_else(|_| "[]".into());
    let outdir = run
        .get("outdir")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut html = String::with_capacity(VEGA.len() + VEGA_LITE.len() + page.body.len() * 2);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>thresher run report{}</title><style>{STYLE}</style></head><body>\
         <h1>thresher run report</h1>\
         <nav><a href=\"#funnel\">funnel</a><a href=\"#reasons\">reasons</a>\
         <a href=\"#values\">values</a><a href=\"#distributions\">distributions</a>\
         <a href=\"#clusters\">clusters</a><a href=\"#edits\">edits</a>\
         <a href=\"#errors\">errors</a><a href=\"#timings\">timings</a>\
         <a href=\"#examples\">samples</a></nav>\n",
        if outdir.is_empty() {
            String::new()
        } else {
            format!(": {}", esc(outdir))
        }
    );
    html.push_str(&page.body);
    let _ = write!(
        html,
        "<p class=\"note\">Charts: Vega {} / Vega-Lite {} / vega-embed {} (BSD-3-Clause), \
         embedded.</p>\n<script type=\"application/json\" id=\"thresher-charts\">{}</script>\n",
        super::VEGA_VERSION,
        super::VEGA_LITE_VERSION,
        super::VEGA_EMBED_VERSION,
        script_safe(&charts)
    );
    // The scripts as published: none holds `</script` or `<!--` (a test checks), which would
    // end or upset the element; they must not be rewritten (`</` may be code).
    for js in [VEGA, VEGA_LITE, VEGA_EMBED, DRAW] {
        html.push_str("<script>");
        html.push_str(js);
        html.push_str("</script>\n");
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn thresholds_are_found_by_name() {
        let p = params(json!({"min_doc_words": 50, "max_doc_words": 100000,
            "line_punct_thr": 0.12, "dup_line_frac": 0.3, "max_symbol_word_ratio": 0.1}));
        assert_eq!(
            threshold("gopher_short_doc", &p),
            Some(("min_doc_words".into(), 50.0))
        );
        assert_eq!(
            threshold("gopher_long_doc", &p),
            Some(("max_doc_words".into(), 100000.0))
        );
        assert_eq!(
            threshold("line_punct", &p),
            Some(("line_punct_thr".into(), 0.12))
        );
        assert_eq!(
            threshold("dup_line_frac", &p),
            Some(("dup_line_frac".into(), 0.3))
        );
        assert_eq!(
            threshold("symbol_word", &p),
            Some(("max_symbol_word_ratio".into(), 0.1))
        );
        assert_eq!(threshold("curly_bracket", &p), None);
        let p = params(
            json!({"line_punct_thr": 0.12, "top_n_grams": [[2, 0.2], [3, 0.18]],
            "char_duplicates_ratio": 0.01}),
        );
        assert_eq!(
            threshold("line_punct_ratio", &p),
            Some(("line_punct_thr".into(), 0.12))
        );
        assert_eq!(
            threshold("top_3_gram", &p),
            Some(("top_n_grams[3]".into(), 0.18))
        );
        assert_eq!(
            threshold("char_dup_ratio", &p),
            Some(("char_duplicates_ratio".into(), 0.01))
        );
    }

    #[test]
    fn vendored_scripts_can_be_inlined() {
        for js in [VEGA, VEGA_LITE, VEGA_EMBED, DRAW] {
            let lower = js.to_ascii_lowercase();
            assert!(!lower.contains("</script") && !lower.contains("<!--"));
        }
    }

    #[test]
    fn text_cannot_close_the_script() {
        assert_eq!(script_safe("a</script>b"), "a<\\/script>b");
        assert_eq!(esc("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
    }
}
