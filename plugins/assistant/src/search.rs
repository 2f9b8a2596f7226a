//! The `zai` search index: plugins (installed and in the marketplace index), commands and
//! documentation sections as documents, ranked with BM25 (k1 = 1.2, b = 0.75).

use std::collections::HashMap;

/// Where a document comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A plugin this bot runs.
    Installed,
    /// A plugin of the marketplace index, not installed.
    Market,
    /// A command of the bot.
    Command,
    /// A section of the documentation.
    Doc,
}

impl Source {
    /// How the source is named in answers.
    pub fn label(&self) -> &'static str {
        match self {
            Source::Installed => "installed plugin",
            Source::Market => "marketplace plugin",
            Source::Command => "command",
            Source::Doc => "documentation",
        }
    }
}

/// One searchable document.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    /// Its title: a plugin's or command's name, a section heading.
    pub title: String,
    /// What it is.
    pub source: Source,
    /// Its text.
    pub text: String,
    /// How to get it (a marketplace plugin's install command).
    pub install: Option<String>,
}

/// A BM25 index over [`Doc`]s.
#[derive(Debug, Default)]
pub struct Index {
    docs: Vec<Doc>,
    terms: Vec<HashMap<String, u32>>,
    lengths: Vec<usize>,
    frequency: HashMap<String, usize>,
    average: f64,
}

/// The words of `text`, lower case; very common English words dropped.
pub fn tokens(text: &str) -> Vec<String> {
    const STOP: [&str; 24] = [
        "a", "an", "and", "are", "be", "can", "do", "for", "how", "i", "in", "is", "it", "of",
        "on", "or", "that", "the", "there", "this", "to", "what", "with", "which",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP.contains(&w.as_str()))
        .map(|w| stem(&w))
        .collect()
}

/// A light stemmer: plural and `-ing`/`-ed` endings, so "transcripts" finds "transcript".
fn stem(word: &str) -> String {
    for suffix in ["ing", "ies", "es", "ed", "s"] {
        if let Some(root) = word.strip_suffix(suffix)
            && root.chars().count() >= 3
        {
            return if suffix == "ies" {
                format!("{root}y")
            } else {
                root.to_owned()
            };
        }
    }
    word.to_owned()
}

impl Index {
    /// An index over `docs`.
    pub fn new(docs: Vec<Doc>) -> Self {
        let mut terms = Vec::with_capacity(docs.len());
        let mut lengths = Vec::with_capacity(docs.len());
        let mut frequency: HashMap<String, usize> = HashMap::new();
        for doc in &docs {
            // The title counts twice: a plugin named for the thing asked ranks first.
            let words = tokens(&format!("{0} {0} {1}", doc.title, doc.text));
            lengths.push(words.len());
            let mut counts: HashMap<String, u32> = HashMap::new();
            for word in words {
                *counts.entry(word).or_default() += 1;
            }
            for word in counts.keys() {
                *frequency.entry(word.clone()).or_default() += 1;
            }
            terms.push(counts);
        }
        let average = if lengths.is_empty() {
            0.0
        } else {
            lengths.iter().sum::<usize>() as f64 / lengths.len() as f64
        };
        Self {
            docs,
            terms,
            lengths,
            frequency,
            average,
        }
    }

    /// Documents indexed.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Every document.
    pub fn docs(&self) -> &[Doc] {
        &self.docs
    }

    /// The `limit` best documents for `query`, best first, with their scores (only those that
    /// share a word with it).
    pub fn search(&self, query: &str, limit: usize) -> Vec<(&Doc, f64)> {
        const K1: f64 = 1.2;
        const B: f64 = 0.75;
        let n = self.docs.len() as f64;
        let mut words = tokens(query);
        words.sort();
        words.dedup();
        let mut scored: Vec<(usize, f64)> = (0..self.docs.len())
            .filter_map(|i| {
                let score: f64 = words
                    .iter()
                    .filter_map(|w| {
                        let tf = f64::from(*self.terms[i].get(w)?);
                        let df = self.frequency.get(w).copied().unwrap_or(0) as f64;
                        let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                        let length = self.lengths[i] as f64 / self.average.max(1.0);
                        Some(idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length)))
                    })
                    .sum();
                (score > 0.0).then_some((i, score))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored
            .into_iter()
            .take(limit)
            .map(|(i, s)| (&self.docs[i], s))
            .collect()
    }
}

/// Splits a Markdown document into sections at its `#` headings: (heading, text).
pub fn sections(file: &str, markdown: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut heading = file.to_owned();
    let mut text = String::new();
    for line in markdown.lines() {
        if line.starts_with('#') {
            if !text.trim().is_empty() {
                out.push((heading.clone(), std::mem::take(&mut text)));
            }
            heading = format!("{file}: {}", line.trim_start_matches('#').trim());
            text.clear();
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    if !text.trim().is_empty() {
        out.push((heading, text));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str, text: &str) -> Doc {
        Doc {
            title: title.to_owned(),
            source: Source::Market,
            text: text.to_owned(),
            install: None,
        }
    }

    #[test]
    fn the_plugin_about_the_question_ranks_first() {
        let index = Index::new(vec![
            doc("polls", "Polls with buttons and results"),
            doc("tickets", "Support tickets with transcripts saved as HTML"),
            doc("music", "Plays music in voice channels"),
        ]);
        let found = index.search("is there a plugin for ticket transcripts?", 3);
        assert_eq!(
            found.first().map(|(d, _)| d.title.as_str()),
            Some("tickets")
        );
        assert_eq!(found.len(), 1, "only documents sharing a word: {found:?}");
        assert!(index.search("zzz", 3).is_empty());
    }

    #[test]
    fn markdown_splits_at_headings() {
        let parts = sections("README.md", "intro\n# One\nfirst\n## Two\nsecond\n");
        assert_eq!(
            parts,
            [
                ("README.md".to_owned(), "intro\n".to_owned()),
                ("README.md: One".to_owned(), "first\n".to_owned()),
                ("README.md: Two".to_owned(), "second\n".to_owned()),
            ]
        );
    }
}
