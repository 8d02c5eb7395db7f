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

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Count, TopDocs};
use tantivy::index::SegmentId;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field as TField, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
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

thread_local! {
    /// Per-thread score accumulator and the list of documents it touched (reused across
    /// queries; reset by clearing only the touched slots).
    static SCORES: std::cell::RefCell<(Vec<f32>, Vec<u32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// The fast-field columns re-ranking reads, opened once per segment.
struct SegmentColumns {
    field: tantivy::columnar::Column<u64>,
    region: tantivy::columnar::Column<u64>,
    trl: tantivy::columnar::Column<u64>,
    price: tantivy::columnar::Column<u64>,
}

impl SegmentColumns {
    fn open(segment: &tantivy::SegmentReader) -> tantivy::Result<Self> {
        let fast = segment.fast_fields();
        Ok(Self {
            field: fast.u64("field")?,
            region: fast.u64("region")?,
            trl: fast.u64("trl")?,
            price: fast.u64("price")?,
        })
    }
}

/// One searchable collection (e.g. published achievements).
pub struct Collection {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    /// Id tables of the segments seen so far (pruned to the live ones on every reload).
    segment_ids: Mutex<HashMap<SegmentId, SegmentIds>>,
    /// Counts reloads: answers computed from the index are valid for one generation.
    generation: AtomicU64,
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

/// A candidate with the facts re-ranking needs. Its id is resolved only for the few that
/// survive re-ranking (string columns are the expensive part of a lookup).
#[derive(Debug, Clone)]
pub struct Hit {
    pub address: DocAddress,
    pub score: f32,
    pub field: u64,
    pub region: u64,
    pub trl: Option<u64>,
    pub price: Option<u64>,
}

/// Candidates of one query, tied to the index snapshot they came from.
pub struct Candidates {
    pub hits: Vec<Hit>,
    /// The listing ids of each segment of that snapshot, by segment ordinal.
    ids: Vec<SegmentIds>,
}

impl Candidates {
    /// The listing id of a hit.
    pub fn id_of(&self, hit: &Hit) -> tantivy::Result<String> {
        Ok(id_at(&self.ids, hit.address))
    }
}

/// The listing id of every document of one segment, by document id. Segments never change,
/// so the table is read once per segment; looking an id up in the `id` column instead costs a
/// dictionary block decompression per hit (a fresh zstd context each time).
type SegmentIds = Arc<[Box<str>]>;

fn id_at(ids: &[SegmentIds], address: DocAddress) -> String {
    ids.get(address.segment_ord as usize)
        .and_then(|segment| segment.get(address.doc_id as usize))
        .map(|id| id.to_string())
        .unwrap_or_default()
}

fn read_segment_ids(segment: &tantivy::SegmentReader) -> tantivy::Result<SegmentIds> {
    let column = segment
        .fast_fields()
        .str("id")?
        .ok_or_else(|| tantivy::TantivyError::SchemaError("fast field id missing".into()))?;
    let mut terms: Vec<Box<str>> = Vec::with_capacity(column.num_terms());
    let mut stream = column.dictionary().stream()?;
    while stream.advance() {
        terms.push(String::from_utf8_lossy(stream.key()).into());
    }
    Ok((0..segment.max_doc())
        .map(|doc| column.term_ords(doc).next().and_then(|ord| terms.get(ord as usize).cloned()).unwrap_or_default())
        .collect())
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
            id: schema.add_text_field("id", STRING | FAST),
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
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            f,
            segment_ids: Mutex::default(),
            generation: AtomicU64::new(0),
        })
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
        self.reload()
    }

    /// Drops everything (before a rebuild).
    pub fn clear(&self) -> tantivy::Result<()> {
        let mut writer = self.writer.lock().map_err(|_| tantivy::TantivyError::Poisoned)?;
        writer.delete_all_documents()?;
        writer.commit()?;
        drop(writer);
        self.reload()
    }

    /// Merges every segment into one (after a bulk build): fewer, larger segments make
    /// queries cheaper. Incremental updates later add small segments that tantivy's merge
    /// policy folds back in the background.
    pub fn optimize(&self) -> tantivy::Result<()> {
        let ids = self.index.searchable_segment_ids()?;
        if ids.len() > 1 {
            let mut writer = self.writer.lock().map_err(|_| tantivy::TantivyError::Poisoned)?;
            writer.merge(&ids).wait()?;
            drop(writer);
            self.reload()?;
        }
        Ok(())
    }

    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
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
        let segment_ids = self.ids_of(&searcher)?;
        Ok((addresses.into_iter().map(|a| id_at(&segment_ids, a)).collect(), total))
    }

    /// Changes with every reload (see [`super::cache`]).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The id tables of every segment of `searcher`, by segment ordinal.
    fn ids_of(&self, searcher: &tantivy::Searcher) -> tantivy::Result<Vec<SegmentIds>> {
        let mut known = self.segment_ids.lock().map_err(|_| tantivy::TantivyError::Poisoned)?;
        searcher
            .segment_readers()
            .iter()
            .map(|segment| match known.get(&segment.segment_id()) {
                Some(ids) => Ok(ids.clone()),
                None => {
                    let ids = read_segment_ids(segment)?;
                    known.insert(segment.segment_id(), ids.clone());
                    Ok(ids)
                }
            })
            .collect()
    }

    /// Reloads the reader and forgets the id tables of segments that merged away.
    fn reload(&self) -> tantivy::Result<()> {
        self.reader.reload()?;
        self.generation.fetch_add(1, Ordering::SeqCst);
        let live: Vec<SegmentId> = self.reader.searcher().segment_readers().iter().map(|s| s.segment_id()).collect();
        if let Ok(mut known) = self.segment_ids.lock() {
            known.retain(|id, _| live.contains(id));
        }
        Ok(())
    }

    /// BM25 over `words` for a bag of unique terms (matching's candidate retrieval), with
    /// the facts re-ranking needs. `exclude_org` drops the querying side's own listings.
    ///
    /// Scored term-at-a-time: each term's postings are added into a dense per-segment score
    /// array, then the best `limit` are selected. For long queries (a whole listing is the
    /// query) this visits every posting once at a few nanoseconds each, where a
    /// document-at-a-time union pays far more per posting. Scores are tantivy's BM25
    /// (`Bm25Weight` over the whole index), so they equal a `BooleanQuery` of the terms.
    pub fn candidates(&self, terms: &[String], exclude_org: Option<&str>, limit: usize) -> tantivy::Result<Candidates> {
        let f = self.f;
        let searcher = self.reader.searcher();
        let mut best: Vec<(f32, DocAddress)> = Vec::new();
        let mut weights = Vec::with_capacity(terms.len());
        for t in terms {
            let term = Term::from_field_text(f.words, t);
            if searcher.doc_freq(&term)? > 0 {
                let weight = tantivy::query::Bm25Weight::for_terms(&searcher, std::slice::from_ref(&term))?;
                weights.push((term, weight));
            }
        }
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(f.words)?;
            let norms = segment.get_fieldnorms_reader(f.words)?;
            SCORES.with(|cell| -> tantivy::Result<()> {
                let mut buf = cell.borrow_mut();
                let (scores, touched) = &mut *buf;
                if scores.len() < segment.max_doc() as usize {
                    scores.resize(segment.max_doc() as usize, 0.0);
                }
                for (term, weight) in &weights {
                    let Some(mut postings) = inverted.read_block_postings(term, IndexRecordOption::WithFreqs)? else {
                        continue;
                    };
                    loop {
                        let docs = postings.docs();
                        if docs.is_empty() {
                            break;
                        }
                        for (&doc, &tf) in docs.iter().zip(postings.freqs()) {
                            let slot = &mut scores[doc as usize];
                            if *slot == 0.0 {
                                touched.push(doc);
                            }
                            *slot += weight.score(norms.fieldnorm_id(doc), tf);
                        }
                        postings.advance();
                    }
                }
                if let Some(org) = exclude_org {
                    let org_index = segment.inverted_index(f.org)?;
                    if let Some(mut own) =
                        org_index.read_block_postings(&Term::from_field_text(f.org, org), IndexRecordOption::Basic)?
                    {
                        loop {
                            let docs = own.docs();
                            if docs.is_empty() {
                                break;
                            }
                            for &doc in docs {
                                if let Some(slot) = scores.get_mut(doc as usize) {
                                    *slot = -1.0;
                                }
                            }
                            own.advance();
                        }
                    }
                }
                let alive = segment.alive_bitset();
                let mut found: Vec<(f32, u32)> = touched
                    .iter()
                    .map(|&d| (scores[d as usize], d))
                    .filter(|&(score, d)| score > 0.0 && alive.is_none_or(|a| a.is_alive(d)))
                    .collect();
                for &d in touched.iter() {
                    scores[d as usize] = 0.0;
                }
                touched.clear();
                if found.len() > limit {
                    found.select_nth_unstable_by(limit, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                    found.truncate(limit);
                }
                best.extend(found.into_iter().map(|(score, doc)| (score, DocAddress::new(ord as u32, doc))));
                Ok(())
            })?;
        }
        best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        best.truncate(limit);
        // Open each segment's columns once, not once per hit.
        let mut columns: std::collections::HashMap<u32, SegmentColumns> = std::collections::HashMap::new();
        let mut hits = Vec::with_capacity(best.len());
        for (score, address) in best {
            let cols = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(SegmentColumns::open(searcher.segment_reader(address.segment_ord))?)
                }
            };
            let doc = address.doc_id;
            let num = |col: &tantivy::columnar::Column<u64>| col.first(doc).unwrap_or(NONE);
            hits.push(Hit {
                address,
                score,
                field: num(&cols.field),
                region: num(&cols.region),
                trl: Some(num(&cols.trl)).filter(|v| *v != NONE),
                price: Some(num(&cols.price)).filter(|v| *v != NONE),
            });
        }
        Ok(Candidates { ids: self.ids_of(&searcher)?, hits })
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
