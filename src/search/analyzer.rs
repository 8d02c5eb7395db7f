//! The text analyzer shared by indexing, search and matching. Identical on both sides:
//!
//! 1. normalise: Unicode NFKC, lowercase, whitespace runs → one space;
//! 2. replace synonym variants by concept terms (`~canonical`), leftmost-longest on the
//!    string, with ASCII word boundaries for variants that start or end in a letter/digit;
//! 3. segment the text between concepts: CJK runs with jieba (search mode, HMM), ASCII
//!    alphanumeric runs kept whole (`lifepo4`, `igbt`);
//! 4. drop stopwords, quantities (`2500`, `20mpa`) and single ASCII characters.
//!
//! The synonym table (`data/synonyms.txt`) maps term variants common in Chinese technology
//! listings to one term, so 塔吊 and 塔式起重机 meet in the index.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use jieba_rs::Jieba;
use unicode_normalization::UnicodeNormalization;

const SYNONYMS: &str = include_str!("data/synonyms.txt");
const STOPWORDS: &str = include_str!("data/stopwords.txt");

static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);
static ANALYZER: LazyLock<Analyzer> = LazyLock::new(|| Analyzer::new(SYNONYMS, STOPWORDS));

/// Marks concept terms in the index and in explanations.
pub const CONCEPT_PREFIX: char = '~';

pub struct Analyzer {
    trie: Trie,
    /// Variant id → the concept terms it emits (file order, deduplicated).
    concepts: Vec<Vec<String>>,
    stopwords: HashSet<String>,
}

/// Normalises text: NFKC, lowercase, whitespace collapsed to single spaces, trimmed.
pub fn norm(text: &str) -> String {
    let lowered: String = text.nfkc().collect::<String>().to_lowercase();
    let mut out = String::with_capacity(lowered.len());
    let mut pending_space = false;
    for c in lowered.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

fn is_ascii_word(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Lines of a data file with `#` comments removed, split on whitespace and commas.
fn entries(data: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    data.lines().filter_map(|line| {
        let line = line.split('#').next().unwrap_or("").trim();
        let parts: Vec<String> = line
            .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
            .filter(|p| !p.is_empty())
            .map(|p| norm(&p.replace('_', " ")))
            .filter(|p| !p.is_empty())
            .collect();
        (!parts.is_empty()).then_some(parts)
    })
}

impl Analyzer {
    /// The analyzer built from the synonym and stopword tables compiled into the binary.
    pub fn global() -> &'static Analyzer {
        &ANALYZER
    }

    /// Loads jieba's dictionary and the tables now rather than on the first request.
    pub fn warm_up() {
        let _ = Self::global().analyze("预热");
    }

    pub fn new(synonyms: &str, stopwords: &str) -> Self {
        let mut variant_ids: HashMap<String, usize> = HashMap::new();
        let mut concepts: Vec<Vec<String>> = Vec::new();
        let mut trie = Trie::default();
        for group in entries(synonyms) {
            let concept = format!("{CONCEPT_PREFIX}{}", group[0]);
            for variant in &group {
                let id = *variant_ids.entry(variant.clone()).or_insert_with(|| {
                    concepts.push(Vec::new());
                    trie.insert(variant, concepts.len() - 1);
                    concepts.len() - 1
                });
                if !concepts[id].contains(&concept) {
                    concepts[id].push(concept.clone());
                }
            }
        }
        let stopwords = entries(stopwords).flatten().collect();
        Self { trie, concepts, stopwords }
    }

    /// The analyzed terms of `text`, in text order (duplicates kept: they are term frequencies).
    pub fn analyze(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.analyze_into(text, &mut out);
        out
    }

    pub fn analyze_into(&self, text: &str, out: &mut Vec<String>) {
        let t: Vec<char> = norm(text).chars().collect();
        let n = t.len();
        let mut i = 0;
        let mut gap_start = 0;
        while i < n {
            match self.concept_at(&t, i) {
                Some((len, variant)) => {
                    self.words(&t[gap_start..i], out);
                    out.extend(self.concepts[variant].iter().cloned());
                    i += len;
                    gap_start = i;
                }
                None => i += 1,
            }
        }
        self.words(&t[gap_start..n], out);
    }

    /// The longest variant starting at `i` that respects ASCII word boundaries.
    fn concept_at(&self, t: &[char], i: usize) -> Option<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = Vec::new();
        let mut node = 0;
        for (k, &c) in t[i..].iter().enumerate() {
            match self.trie.child(node, c) {
                Some(next) => node = next,
                None => break,
            }
            if let Some(variant) = self.trie.terminal(node) {
                found.push((k + 1, variant));
            }
        }
        let left_ok = |first: char| !(is_ascii_word(first) && i > 0 && is_ascii_word(t[i - 1]));
        found.into_iter().rev().find(|&(len, _)| {
            let end = i + len;
            let right_ok = !(is_ascii_word(t[end - 1]) && end < t.len() && is_ascii_word(t[end]));
            left_ok(t[i]) && right_ok
        })
    }

    /// Word tokens of a stretch of text between concepts.
    fn words(&self, gap: &[char], out: &mut Vec<String>) {
        let mut k = 0;
        while k < gap.len() {
            let c = gap[k];
            let class: Option<fn(char) -> bool> = if is_cjk(c) {
                Some(is_cjk)
            } else if is_ascii_word(c) {
                Some(is_ascii_word)
            } else {
                None
            };
            let Some(class) = class else {
                k += 1;
                continue;
            };
            let start = k;
            while k < gap.len() && class(gap[k]) {
                k += 1;
            }
            let run: String = gap[start..k].iter().collect();
            if is_cjk(c) {
                for token in JIEBA.cut_for_search(&run, true) {
                    self.keep(token.word, out);
                }
            } else {
                self.keep(&run, out);
            }
        }
    }

    fn keep(&self, token: &str, out: &mut Vec<String>) {
        let single_ascii = token.len() == 1 && token.is_ascii();
        if single_ascii || is_quantity(token) || self.stopwords.contains(token) {
            return;
        }
        out.push(token.to_owned());
    }

    /// How a term is shown to people: concepts without their marker.
    pub fn display(term: &str) -> &str {
        term.strip_prefix(CONCEPT_PREFIX).unwrap_or(term)
    }
}

/// `[0-9]+[a-z]{0,3}`: a number with an optional unit, e.g. `2500`, `5c`, `20mpa`.
fn is_quantity(token: &str) -> bool {
    let digits = token.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &token.as_bytes()[digits..];
    digits > 0 && rest.len() <= 3 && rest.iter().all(u8::is_ascii_lowercase)
}

/// Character trie over the synonym variants.
#[derive(Default)]
struct Trie {
    edges: HashMap<(u32, char), u32>,
    terminals: HashMap<u32, usize>,
    nodes: u32,
}

impl Trie {
    fn insert(&mut self, word: &str, variant: usize) {
        let mut node = 0;
        for c in word.chars() {
            node = match self.edges.get(&(node, c)) {
                Some(&next) => next,
                None => {
                    self.nodes += 1;
                    self.edges.insert((node, c), self.nodes);
                    self.nodes
                }
            };
        }
        self.terminals.insert(node, variant);
    }

    fn child(&self, node: u32, c: char) -> Option<u32> {
        self.edges.get(&(node, c)).copied()
    }

    fn terminal(&self, node: u32) -> Option<usize> {
        self.terminals.get(&node).copied()
    }
}

/// Terms for substring search: CJK characters and ASCII words as units; every segment of
/// one unit gives that unit, longer segments give their consecutive bigrams, in order (the
/// positions make a query's bigrams a phrase).
pub fn grams(text: &str) -> Vec<String> {
    let t = norm(text);
    let mut out = Vec::new();
    let mut segment: Vec<String> = Vec::new();
    let flush = |segment: &mut Vec<String>, out: &mut Vec<String>| {
        match segment.len() {
            0 => {}
            1 => out.push(segment[0].clone()),
            _ => out.extend(segment.windows(2).map(|w| format!("{}{}", w[0], w[1]))),
        }
        segment.clear();
    };
    let chars: Vec<char> = t.chars().collect();
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k];
        if is_cjk(c) {
            segment.push(c.to_string());
            k += 1;
        } else if is_ascii_word(c) {
            let start = k;
            while k < chars.len() && is_ascii_word(chars[k]) {
                k += 1;
            }
            segment.push(chars[start..k].iter().collect());
        } else {
            flush(&mut segment, &mut out);
            k += 1;
        }
    }
    flush(&mut segment, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(text: &str) -> Vec<String> {
        Analyzer::global().analyze(text)
    }

    #[test]
    fn synonym_variants_meet_on_one_concept() {
        let tower = a("塔式起重机多机协同作业干涉预警");
        assert!(tower.contains(&"~塔吊".to_owned()), "{tower:?}");
        assert_eq!(a("塔吊").first().map(String::as_str), Some("~塔吊"));
        let lfp = a("橄榄石型LiFePO4正极材料，0.5C放电容量保持率≥85%");
        assert_eq!(lfp.iter().filter(|t| *t == "~磷酸铁锂").count(), 2, "{lfp:?}");
        assert!(lfp.contains(&"~正极材料".to_owned()));
        assert!(!lfp.iter().any(|t| t == "0" || t == "5c" || t == "85"), "quantities dropped: {lfp:?}");
    }

    #[test]
    fn ascii_variants_need_word_boundaries() {
        // `led` must not fire inside `oled`.
        let oled = a("OLED显示");
        assert!(!oled.iter().any(|t| t.contains("led") && t != "oled" && !t.starts_with('~')), "{oled:?}");
        let micro = a("Micro LED显示模组芯片巨量转移技术需求");
        assert!(micro.contains(&"~micro led".to_owned()), "{micro:?}");
        assert!(micro.contains(&"~巨量转移".to_owned()));
        assert!(!micro.contains(&"技术".to_owned()) && !micro.contains(&"需求".to_owned()), "stopwords: {micro:?}");
    }

    #[test]
    fn normalisation_folds_width_and_case() {
        assert_eq!(norm("  ＡＢＣ　Def\n\tg "), "abc def g");
        assert!(is_quantity("20mpa") && is_quantity("2500") && !is_quantity("5g打印") && !is_quantity("mpa"));
    }

    #[test]
    fn grams_cover_substrings() {
        assert_eq!(grams("钙钛矿"), vec!["钙钛", "钛矿"]);
        let doc = grams("高效钙钛矿太阳能电池");
        assert!(doc.windows(2).any(|w| w == ["钙钛", "钛矿"]), "{doc:?}");
        assert_eq!(grams("5G 基站"), vec!["5g", "基站"]);
    }
}
