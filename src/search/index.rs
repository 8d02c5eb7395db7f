//! The derived full-text index: one tantivy index per kind of listing, in memory, rebuilt
//! from the database at start and kept current on publish/withdraw and by a periodic
//! catch-up. Two text fields per document:
//!
//! - `words`: the analyzer's terms (concepts and jieba words) of title, each keyword and body,
//!   scored with BM25; matching uses this field alone;
//! - `grams`: CJK bigrams with positions, so a query word found anywhere inside a text
//!   matches as a phrase even when jieba segmented the text differently.
//!
//! Structured facts (field, region, TRL, price, transfer modes, organization, publication
//! time) are indexed for filters and kept as fast fields for sorting and re-ranking.

use std::ops::Bound;
use std::sync::Mutex;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field as TField, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{PreTokenizedString, Token};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

use super::analyzer::{Analyzer, grams, norm};

/// `u64` stored for "not set" in the numeric fast fields (TRL, price).
pub const NONE: u64 = u64::MAX;

/// What the index knows about one listing (achievement, demand or challenge).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDoc {
    pub id: String,
    pub title: String,
    pub keywords: Vec<String>,
    pub body: String,
    /// Index of the field in the taxonomy (`Field::ALL`).
    pub field: u64,
    /// Index of the region in `REGIONS`, or `NONE`.
    pub region: u64,
    pub org_id: String,
    /// TRL (achievements) or minimum TRL (demands).
    pub trl: Option<u64>,
    /// Asking price, budget or reward, in fen.
    pub price: Option<u64>,
    /// Transfer-mode indexes (achievements).
    pub modes: Vec<u64>,
    /// Publication time, microseconds since the epoch (for "newest first").
    pub published_us: i64,
}

#[derive(Clone, Copy)]
struct Fields {
    id: TField,
    words: TField,
    grams: TField,
    field: TField,
    region: TField,
    org: TField,
    trl: TField,
    price: TField,
    modes: TField,
    published: TField,
}

/// One searchable collection (e.g. published achievements).
pub struct Collection {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
}

/// Filters applied inside the index.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub field: Option<u64>,
    pub region: Option<u64>,
    pub org_id: Option<String>,
    /// `trl >= min_trl`.
    pub min_trl: Option<u64>,
    /// `trl <= max_trl`.
    pub max_trl: Option<u64>,
    /// `price <= max_price` (listings without a price excluded).
    pub max_price: Option<u64>,
    /// `price >= min_price`.
    pub min_price: Option<u64>,
    pub mode: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    Newest,
}

/// A hit with the facts re-ranking needs.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: String,
    pub score: f32,
    pub field: u64,
    pub region: u64,
    pub trl: Option<u64>,
    pub price: Option<u64>,
    pub org_id: String,
}

fn pretokenized(terms: Vec<String>) -> PreTokenizedString {
    let tokens = terms
        .into_iter()
        .enumerate()
        .map(|(position, text)| Token { offset_from: 0, offset_to: 0, position, text, position_length: 1 })
        .collect();
    PreTokenizedString { text: String::new(), tokens }
}

/// The `words` stream of a listing: each part analysed on its own (no concept spans a
/// keyword boundary).
pub fn word_terms(doc: &IndexDoc) -> Vec<String> {
    let analyzer = Analyzer::global();
    let mut terms = analyzer.analyze(&doc.title);
    for keyword in &doc.keywords {
        analyzer.analyze_into(keyword, &mut terms);
    }
    analyzer.analyze_into(&doc.body, &mut terms);
    terms
}

impl Collection {
    pub fn new(writer_heap_bytes: usize) -> tantivy::Result<Self> {
        let mut schema = Schema::builder();
        let text = |positions: bool| {
            let record =
                if positions { IndexRecordOption::WithFreqsAndPositions } else { IndexRecordOption::WithFreqs };
            TextOptions::default()
                .set_indexing_options(TextFieldIndexing::default().set_tokenizer("raw").set_index_option(record))
        };
        let f = Fields {
            id: schema.add_text_field("id", STRING | STORED),
            words: schema.add_text_field("words", text(false)),
            grams: schema.add_text_field("grams", text(true)),
            field: schema.add_u64_field("field", INDEXED | FAST),
            region: schema.add_u64_field("region", INDEXED | FAST),
            org: schema.add_text_field("org", STRING | FAST),
            trl: schema.add_u64_field("trl", INDEXED | FAST),
            price: schema.add_u64_field("price", INDEXED | FAST),
            modes: schema.add_u64_field("modes", INDEXED),
            published: schema.add_i64_field("published", FAST),
        };
        let index = Index::create_in_ram(schema.build());
        let writer = index.writer_with_num_threads(1, writer_heap_bytes.max(15_000_000))?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Self { index, reader, writer: Mutex::new(writer), f })
    }

    fn document(&self, doc: &IndexDoc) -> TantivyDocument {
        let f = self.f;
        let mut d = TantivyDocument::default();
        d.add_text(f.id, &doc.id);
        d.add_pre_tokenized_text(f.words, pretokenized(word_terms(doc)));
        let mut gram_terms = grams(&doc.title);
        for keyword in &doc.keywords {
            gram_terms.extend(grams(keyword));
        }
        gram_terms.extend(grams(&doc.body));
        d.add_pre_tokenized_text(f.grams, pretokenized(gram_terms));
        d.add_u64(f.field, doc.field);
        d.add_u64(f.region, doc.region);
        d.add_text(f.org, &doc.org_id);
        d.add_u64(f.trl, doc.trl.unwrap_or(NONE));
        d.add_u64(f.price, doc.price.unwrap_or(NONE));
        for mode in &doc.modes {
            d.add_u64(f.modes, *mode);
        }
        d.add_i64(f.published, doc.published_us);
        d
    }

    /// Replaces (or adds) `docs` and removes `removed`, then makes the change visible.
    pub fn apply(&self, docs: &[IndexDoc], removed: &[String]) -> tantivy::Result<()> {
        let mut writer = self.writer.lock().map_err(|_| tantivy::TantivyError::Poisoned)?;
        for id in removed {
            writer.delete_term(Term::from_field_text(self.f.id, id));
        }
        for doc in docs {
            writer.delete_term(Term::from_field_text(self.f.id, &doc.id));
            writer.add_document(self.document(doc))?;
        }
        writer.commit()?;
        drop(writer);
        self.reader.reload()
    }

    /// Drops everything (before a rebuild).
    pub fn clear(&self) -> tantivy::Result<()> {
        let mut writer = self.writer.lock().map_err(|_| tantivy::TantivyError::Poisoned)?;
        writer.delete_all_documents()?;
        writer.commit()?;
        drop(writer);
        self.reader.reload()
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn filter_clauses(&self, filters: &Filters) -> Vec<(Occur, Box<dyn Query>)> {
        let f = self.f;
        let term = |field, value: u64| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_u64(field, value), IndexRecordOption::Basic))
        };
        let range = |field, lo: Bound<u64>, hi: Bound<u64>| -> Box<dyn Query> {
            Box::new(RangeQuery::new(
                lo.map(|v| Term::from_field_u64(field, v)),
                hi.map(|v| Term::from_field_u64(field, v)),
            ))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(v) = filters.field {
            clauses.push((Occur::Must, term(f.field, v)));
        }
        if let Some(v) = filters.region {
            clauses.push((Occur::Must, term(f.region, v)));
        }
        if let Some(v) = filters.mode {
            clauses.push((Occur::Must, term(f.modes, v)));
        }
        if let Some(org) = &filters.org_id {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_text(f.org, org), IndexRecordOption::Basic)),
            ));
        }
        if filters.min_trl.is_some() || filters.max_trl.is_some() {
            let lo = filters.min_trl.map_or(Bound::Unbounded, Bound::Included);
            let hi = filters.max_trl.map_or(Bound::Excluded(NONE), Bound::Included);
            clauses.push((Occur::Must, range(f.trl, lo, hi)));
        }
        if filters.max_price.is_some() || filters.min_price.is_some() {
            let lo = filters.min_price.map_or(Bound::Unbounded, Bound::Included);
            let hi = filters.max_price.map_or(Bound::Excluded(NONE), Bound::Included);
            clauses.push((Occur::Must, range(f.price, lo, hi)));
        }
        clauses
    }

    /// Full-text search: every whitespace-separated part of `q` must match, either through
    /// its analyzed terms (all of them) or as a substring (bigram phrase). Returns a page of
    /// ids and the total number of hits.
    pub fn search(
        &self,
        q: &str,
        filters: &Filters,
        sort: Sort,
        offset: usize,
        limit: usize,
    ) -> tantivy::Result<(Vec<String>, usize)> {
        let f = self.f;
        let analyzer = Analyzer::global();
        let mut clauses = Vec::new();
        for part in norm(q).split(' ').filter(|p| !p.is_empty()) {
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            let mut terms = analyzer.analyze(part);
            terms.sort();
            terms.dedup();
            if !terms.is_empty() {
                let all: Vec<(Occur, Box<dyn Query>)> = terms
                    .iter()
                    .map(|t| {
                        let q: Box<dyn Query> =
                            Box::new(TermQuery::new(Term::from_field_text(f.words, t), IndexRecordOption::WithFreqs));
                        (Occur::Must, q)
                    })
                    .collect();
                alternatives.push((Occur::Should, Box::new(BooleanQuery::new(all))));
            }
            let gram_terms: Vec<Term> = grams(part).iter().map(|g| Term::from_field_text(f.grams, g)).collect();
            match gram_terms.len() {
                0 => {}
                1 => alternatives.push((
                    Occur::Should,
                    Box::new(TermQuery::new(gram_terms[0].clone(), IndexRecordOption::WithFreqs)),
                )),
                _ => alternatives.push((Occur::Should, Box::new(PhraseQuery::new(gram_terms)))),
            }
            if alternatives.is_empty() {
                continue; // punctuation only
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(alternatives)) as Box<dyn Query>));
        }
        if clauses.is_empty() {
            return Ok((Vec::new(), 0));
        }
        clauses.extend(self.filter_clauses(filters));
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(limit.max(1)).and_offset(offset);
        let (addresses, total): (Vec<DocAddress>, usize) = match sort {
            Sort::Relevance => {
                let (docs, total) = searcher.search(&query, &(top.order_by_score(), Count))?;
                (docs.into_iter().map(|(_, a)| a).collect(), total)
            }
            Sort::Newest => {
                let (docs, total) =
                    searcher.search(&query, &(top.order_by_fast_field::<i64>("published", Order::Desc), Count))?;
                (docs.into_iter().map(|(_, a)| a).collect(), total)
            }
        };
        let ids = addresses.into_iter().map(|a| self.id_of(&searcher, a)).collect::<tantivy::Result<Vec<_>>>()?;
        Ok((ids, total))
    }

    fn id_of(&self, searcher: &tantivy::Searcher, address: DocAddress) -> tantivy::Result<String> {
        let doc: TantivyDocument = searcher.doc(address)?;
        Ok(doc.get_first(self.f.id).and_then(|v| v.as_str()).unwrap_or_default().to_owned())
    }

    /// BM25 over `words` for a bag of unique terms (matching's candidate retrieval), with
    /// the facts re-ranking needs. `exclude_org` drops the querying side's own listings.
    pub fn candidates(&self, terms: &[String], exclude_org: Option<&str>, limit: usize) -> tantivy::Result<Vec<Hit>> {
        let f = self.f;
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|t| {
                let q: Box<dyn Query> =
                    Box::new(TermQuery::new(Term::from_field_text(f.words, t), IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        if let Some(org) = exclude_org {
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(Term::from_field_text(f.org, org), IndexRecordOption::Basic)),
            ));
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let segment = searcher.segment_reader(address.segment_ord);
            let fast = segment.fast_fields();
            let num =
                |name: &str| -> tantivy::Result<u64> { Ok(fast.u64(name)?.first(address.doc_id).unwrap_or(NONE)) };
            let field = num("field")?;
            let region = num("region")?;
            let trl = Some(num("trl")?).filter(|v| *v != NONE);
            let price = Some(num("price")?).filter(|v| *v != NONE);
            let doc: TantivyDocument = searcher.doc(address)?;
            let id = doc.get_first(f.id).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let org_id = match fast.str("org")? {
                Some(col) => {
                    let mut s = String::new();
                    if let Some(ord) = col.term_ords(address.doc_id).next() {
                        col.ord_to_str(ord, &mut s)?;
                    }
                    s
                }
                None => String::new(),
            };
            hits.push(Hit { id, score, field, region, trl, price, org_id });
        }
        Ok(hits)
    }

    /// Number of indexed documents and document frequency of `term` in `words` (for
    /// explanations: idf).
    pub fn doc_freq(&self, term: &str) -> tantivy::Result<(u64, u64)> {
        let searcher = self.reader.searcher();
        let df = searcher.doc_freq(&Term::from_field_text(self.f.words, term))?;
        Ok((searcher.num_docs(), df))
    }

    pub fn index(&self) -> &Index {
        &self.index
    }
}
