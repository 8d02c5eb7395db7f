//! `techtransfer bench match-quality --data <dir>`: loads a judged data set in the format of
//! `bench/match-dev` (achievements.jsonl, demands.jsonl, qrels.jsonl) into a fresh engine
//! and prints NDCG@10, Recall@10 (grade-2 answers), MRR and "first grade-2 answer in the
//! top 3" for the engine and for a plain BM25-over-jieba baseline, in two modes: `full`
//! (the whole demand) and `short` (title and keywords only).
//!
//! With `[matching.embeddings] url` set (e.g. `TT__MATCHING__EMBEDDINGS__URL`), it also embeds
//! every record through that server and reports dense-only (cosine × structured fit) and hybrid
//! (`matching::fuse`) rankings. The hybrid weight is chosen by 5-fold cross-validation over the
//! demands: each fold is scored with the weight that did best on the other four, so the figure
//! is not tuned on the demands it reports.

use std::collections::HashMap;
use std::path::Path;

use jieba_rs::Jieba;
use serde::Deserialize;

use crate::matching::{self, Params, QueryListing, Role};
use crate::search::index::{Collection, IndexDoc, NONE};
use crate::search::sync::{field_code, region_code};

#[derive(Debug, Deserialize)]
struct Achievement {
    key: String,
    title: String,
    summary: String,
    field: String,
    keywords: Vec<String>,
    trl: Option<u64>,
    asking_price_fen: Option<u64>,
    region: String,
}

#[derive(Debug, Deserialize)]
struct Demand {
    key: String,
    title: String,
    description: String,
    field: String,
    keywords: Vec<String>,
    min_trl: Option<u64>,
    budget_fen: Option<u64>,
    region: String,
}

#[derive(Debug, Deserialize)]
struct Qrel {
    demand: String,
    achievement: String,
    grade: u8,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())))
        .collect()
}

#[derive(Debug, Default, Clone, Copy)]
struct Metrics {
    ndcg: f64,
    recall: f64,
    mrr: f64,
    top3: f64,
}

/// Scores one ranking against the judgements of its demand.
fn evaluate(ranking: &[String], grades: &HashMap<String, u8>) -> Metrics {
    let dcg = |gains: &[f64]| gains.iter().enumerate().map(|(i, g)| g / ((i + 2) as f64).log2()).sum::<f64>();
    let got: Vec<f64> = ranking.iter().take(10).map(|k| f64::from(*grades.get(k).unwrap_or(&0))).collect();
    let mut ideal: Vec<f64> = grades.values().map(|g| f64::from(*g)).collect();
    ideal.sort_by(|a, b| b.total_cmp(a));
    ideal.truncate(10);
    let ideal_dcg = dcg(&ideal);
    let relevant2 = grades.values().filter(|g| **g == 2).count().max(1) as f64;
    let found2 = ranking.iter().take(10).filter(|k| grades.get(*k) == Some(&2)).count() as f64;
    let first2 = ranking.iter().position(|k| grades.get(k) == Some(&2));
    Metrics {
        ndcg: if ideal_dcg > 0.0 { dcg(&got) / ideal_dcg } else { 0.0 },
        recall: found2 / relevant2,
        mrr: first2.map_or(0.0, |p| 1.0 / (p + 1) as f64),
        top3: if first2.is_some_and(|p| p < 3) { 1.0 } else { 0.0 },
    }
}

fn mean(all: &[Metrics]) -> Metrics {
    let n = all.len().max(1) as f64;
    Metrics {
        ndcg: all.iter().map(|m| m.ndcg).sum::<f64>() / n,
        recall: all.iter().map(|m| m.recall).sum::<f64>() / n,
        mrr: all.iter().map(|m| m.mrr).sum::<f64>() / n,
        top3: all.iter().map(|m| m.top3).sum::<f64>() / n,
    }
}

/// The baseline: plain BM25 (k1 1.2, b 0.75) over jieba search-mode tokens of title +
/// keywords + summary; every query token occurrence counts.
struct Baseline {
    docs: Vec<(String, HashMap<String, f64>, f64)>,
    df: HashMap<String, f64>,
    avgdl: f64,
}

fn jieba_tokens(jieba: &Jieba, text: &str) -> Vec<String> {
    jieba
        .cut_for_search(text, true)
        .into_iter()
        .map(|t| t.word.to_lowercase())
        .filter(|w| w.chars().any(|c| c.is_alphanumeric()))
        .collect()
}

impl Baseline {
    fn new(jieba: &Jieba, achievements: &[Achievement]) -> Self {
        let mut df: HashMap<String, f64> = HashMap::new();
        let docs: Vec<_> = achievements
            .iter()
            .map(|a| {
                let text = format!("{} {} {}", a.title, a.keywords.join(" "), a.summary);
                let tokens = jieba_tokens(jieba, &text);
                let mut tf: HashMap<String, f64> = HashMap::new();
                for t in &tokens {
                    *tf.entry(t.clone()).or_default() += 1.0;
                }
                for t in tf.keys() {
                    *df.entry(t.clone()).or_default() += 1.0;
                }
                (a.key.clone(), tf, tokens.len() as f64)
            })
            .collect();
        let avgdl = docs.iter().map(|d| d.2).sum::<f64>() / docs.len().max(1) as f64;
        Self { docs, df, avgdl }
    }

    fn rank(&self, jieba: &Jieba, query: &str) -> Vec<String> {
        let (k1, b) = (1.2, 0.75);
        let n = self.docs.len() as f64;
        let terms = jieba_tokens(jieba, query);
        let mut scored: Vec<(f64, &String)> = self
            .docs
            .iter()
            .map(|(key, tf, dl)| {
                let score = terms
                    .iter()
                    .filter_map(|t| {
                        let f = *tf.get(t)?;
                        let df = self.df.get(t).copied().unwrap_or(0.0);
                        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                        Some(idf * f * (k1 + 1.0) / (f + k1 * (1.0 - b + b * dl / self.avgdl)))
                    })
                    .sum::<f64>();
                (score, key)
            })
            .filter(|(s, _)| *s > 0.0)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        scored.into_iter().map(|(_, k)| k.clone()).collect()
    }
}

pub fn run(dir: &Path, params: &Params) -> anyhow::Result<()> {
    let achievements: Vec<Achievement> = read_jsonl(&dir.join("achievements.jsonl"))?;
    let demands: Vec<Demand> = read_jsonl(&dir.join("demands.jsonl"))?;
    let qrels: Vec<Qrel> = read_jsonl(&dir.join("qrels.jsonl"))?;
    let mut judged: HashMap<String, HashMap<String, u8>> = HashMap::new();
    for q in qrels {
        judged.entry(q.demand).or_default().insert(q.achievement, q.grade);
    }

    let collection = Collection::new(64 * 1024 * 1024)?;
    let docs: Vec<IndexDoc> = achievements
        .iter()
        .enumerate()
        .map(|(i, a)| IndexDoc {
            id: a.key.clone(),
            title: a.title.clone(),
            keywords: a.keywords.clone(),
            body: a.summary.clone(),
            field: field_code(&a.field),
            region: region_code(&a.region),
            org_id: format!("org-{i}"),
            trl: a.trl,
            price: a.asking_price_fen,
            modes: Vec::new(),
            published_us: i as i64,
        })
        .collect();
    collection.apply(&docs, &[])?;
    let jieba = Jieba::new();
    let baseline = Baseline::new(&jieba, &achievements);

    println!(
        "match-quality: {} achievements, {} demands, {} judgements ({})",
        achievements.len(),
        demands.len(),
        judged.values().map(HashMap::len).sum::<usize>(),
        dir.display()
    );
    println!("{:<10} {:<6} {:>8} {:>10} {:>8} {:>10}", "system", "mode", "NDCG@10", "Recall@10", "MRR", "top3_g2");
    let mut load = 0.0;
    for d in &demands {
        let q = QueryListing {
            role: Role::Demand,
            title: &d.title,
            keywords: &d.keywords,
            body: &d.description,
            field: NONE,
            region: NONE,
            trl: None,
            price: None,
            org_id: None,
        };
        load += matching::postings_load(&collection, &matching::query_terms(&q))?;
    }
    println!("full queries touch Σdf/N = {:.2} of the index on average", load / demands.len().max(1) as f64);
    let mut summary = Vec::new();
    for mode in ["full", "short"] {
        let full = mode == "full";
        let (mut engine, mut base) = (Vec::new(), Vec::new());
        for d in &demands {
            let grades = judged.get(&d.key).cloned().unwrap_or_default();
            let q = demand_query(d, full);
            let ranked: Vec<String> = matching::rank(&collection, &q, params, 100)?.into_iter().map(|r| r.id).collect();
            engine.push(evaluate(&ranked, &grades));
            let text = if full {
                format!("{} {} {}", d.title, d.keywords.join(" "), d.description)
            } else {
                format!("{} {}", d.title, d.keywords.join(" "))
            };
            base.push(evaluate(&baseline.rank(&jieba, &text), &grades));
        }
        let (e, b) = (mean(&engine), mean(&base));
        for (name, m) in [("engine", e), ("baseline", b)] {
            println!("{name:<10} {mode:<6} {:>8.3} {:>10.3} {:>8.3} {:>9.1}%", m.ndcg, m.recall, m.mrr, m.top3 * 100.0);
        }
        summary.push((mode, e.ndcg - b.ndcg));
    }
    for (mode, delta) in summary {
        println!("engine − baseline NDCG@10 ({mode}): {delta:+.3}");
    }
    if let Some(embedder) = matching::embeddings::Embedder::from_settings(&params.embeddings)? {
        hybrid(&embedder, &collection, &achievements, &demands, &judged, params)?;
    }
    Ok(())
}

/// A judged demand as a matching query: all of it (`full`), or its title and keywords only.
fn demand_query(d: &Demand, full: bool) -> QueryListing<'_> {
    QueryListing {
        role: Role::Demand,
        title: &d.title,
        keywords: &d.keywords,
        body: if full { &d.description } else { "" },
        field: if full { field_code(&d.field) } else { NONE },
        region: if full { region_code(&d.region) } else { NONE },
        trl: if full { d.min_trl } else { None },
        price: if full { d.budget_fen } else { None },
        org_id: None,
    }
}

/// Dense-only and hybrid rankings of every demand (see the module documentation).
fn hybrid(
    embedder: &matching::embeddings::Embedder,
    collection: &Collection,
    achievements: &[Achievement],
    demands: &[Demand],
    judged: &HashMap<String, HashMap<String, u8>>,
    params: &Params,
) -> anyhow::Result<()> {
    use matching::embeddings::{Quantized, Side};
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let started = std::time::Instant::now();
    let passages: Vec<String> = achievements.iter().map(|a| passage_text(&a.title, &a.keywords, &a.summary)).collect();
    let vectors: Vec<Quantized> =
        rt.block_on(embedder.embed(&passages, Side::Passage))?.iter().map(|v| Quantized::new(v)).collect();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "embedded {} achievements with {} in {secs:.1} s ({:.1} texts/s)",
        achievements.len(),
        embedder.model(),
        achievements.len() as f64 / secs.max(1e-9)
    );
    let weights: Vec<f32> = (0..=20).map(|i| i as f32 / 20.0).collect();
    for mode in ["full", "short"] {
        let full = mode == "full";
        let texts: Vec<String> = demands
            .iter()
            .map(|d| passage_text(&d.title, &d.keywords, if full { &d.description } else { "" }))
            .collect();
        let queries = rt.block_on(embedder.embed(&texts, Side::Query))?;
        // Per demand: the candidates (every achievement) with their text, cosine and fit.
        let mut per_demand: Vec<(Vec<matching::Candidate>, HashMap<String, u8>)> = Vec::new();
        for (d, qv) in demands.iter().zip(&queries) {
            let q = demand_query(d, full);
            let lexical: HashMap<String, f32> = matching::rank(collection, &q, params, achievements.len())?
                .into_iter()
                .map(|r| (r.id, if r.fit.factor > 0.0 { r.score / r.fit.factor } else { 0.0 }))
                .collect();
            let candidates = achievements
                .iter()
                .zip(&vectors)
                .map(|(a, v)| {
                    let theirs = matching::Facts {
                        field: field_code(&a.field),
                        region: region_code(&a.region),
                        trl: a.trl,
                        price: a.asking_price_fen,
                    };
                    matching::Candidate {
                        id: a.key.clone(),
                        text: lexical.get(&a.key).copied().unwrap_or(0.0),
                        dense: Some(v.cosine(qv)),
                        fit: matching::fit_for(&q, &theirs, params),
                    }
                })
                .collect();
            per_demand.push((candidates, judged.get(&d.key).cloned().unwrap_or_default()));
        }
        let score = |items: &[usize], w: f32| -> Metrics {
            let all: Vec<Metrics> = items
                .iter()
                .map(|&i| {
                    let (candidates, grades) = &per_demand[i];
                    let scores = matching::fuse(candidates, w);
                    let mut order: Vec<usize> = (0..candidates.len()).filter(|&j| scores[j] > 0.0).collect();
                    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
                    let ranking: Vec<String> = order.into_iter().map(|j| candidates[j].id.clone()).collect();
                    evaluate(&ranking, grades)
                })
                .collect();
            mean(&all)
        };
        let everyone: Vec<usize> = (0..per_demand.len()).collect();
        // The configured weights, each demand with the one its text length selects.
        let configured = mean(
            &everyone
                .iter()
                .map(|&i| {
                    let body = if full { demands[i].description.as_str() } else { "" };
                    score(&[i], params.embeddings.weight_for(body))
                })
                .collect::<Vec<_>>(),
        );
        let dense = score(&everyone, 1.0);
        let lexical = score(&everyone, 0.0);
        // 5-fold cross-validation of the weight.
        let mut folds = Vec::new();
        let mut chosen = Vec::new();
        for k in 0..5 {
            let (test, train): (Vec<usize>, Vec<usize>) = everyone.iter().partition(|i| *i % 5 == k);
            let best = weights
                .iter()
                .copied()
                .max_by(|a, b| score(&train, *a).ndcg.total_cmp(&score(&train, *b).ndcg))
                .unwrap_or(0.5);
            chosen.push(best);
            folds.extend(test.iter().map(|&i| score(&[i], best)));
        }
        let cv = mean(&folds);
        let whole_best = weights
            .iter()
            .copied()
            .max_by(|a, b| score(&everyone, *a).ndcg.total_cmp(&score(&everyone, *b).ndcg))
            .unwrap_or(0.5);
        for (name, m) in [("lexical", lexical), ("dense", dense), ("hybrid-cv", cv)] {
            println!("{name:<10} {mode:<6} {:>8.3} {:>10.3} {:>8.3} {:>9.1}%", m.ndcg, m.recall, m.mrr, m.top3 * 100.0);
        }
        let chosen: Vec<String> = chosen.iter().map(|w| format!("{w:.2}")).collect();
        println!(
            "hybrid weights chosen per fold ({mode}): {}; best on all demands: {whole_best:.2} (NDCG@10 {:.3}); configured {:.2}/{:.2} by length: NDCG@10 {:.3}",
            chosen.join(", "),
            score(&everyone, whole_best).ndcg,
            params.embeddings.weight,
            params.embeddings.weight_short,
            configured.ndcg
        );
    }
    Ok(())
}

/// The text embedded for a listing: title, keywords, body.
pub fn passage_text(title: &str, keywords: &[String], body: &str) -> String {
    let mut text = title.to_owned();
    if !keywords.is_empty() {
        text.push('。');
        text.push_str(&keywords.join("、"));
    }
    if !body.trim().is_empty() {
        text.push('。');
        text.push_str(body.trim());
    }
    text
}
