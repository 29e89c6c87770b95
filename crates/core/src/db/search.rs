//! Full-text search over an owner's pages (see the `page_search` migration):
//! PostgreSQL's `websearch_to_tsquery` syntax, ranked hits with a highlighted
//! excerpt, and which of the page's words matched, to find their boxes.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Float4, Int4, Text, Uuid as SqlUuid};
use uuid::Uuid;

/// Every configuration `scribe_search_config` can choose. The query names each
/// one as a constant, so the GIN index serves it (a per-row configuration
/// would turn the search into a scan of every page).
const CONFIGS: [&str; 16] = [
    "simple",
    "english",
    "german",
    "french",
    "spanish",
    "italian",
    "portuguese",
    "dutch",
    "danish",
    "finnish",
    "hungarian",
    "norwegian",
    "romanian",
    "russian",
    "swedish",
    "turkish",
];

/// Marks around matched words in what PostgreSQL returns: private-use code
/// points, which OCR text does not contain, so they cannot collide with it.
pub const HIT_START: char = '\u{E000}';
pub const HIT_END: char = '\u{E001}';

#[derive(Debug, Clone, QueryableByName)]
pub struct Hit {
    #[diesel(sql_type = SqlUuid)]
    pub job_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub upload_id: Uuid,
    #[diesel(sql_type = Text)]
    pub file_name: String,
    #[diesel(sql_type = Int4)]
    pub page: i32,
    #[diesel(sql_type = Float4)]
    pub rank: f32,
    /// A few fragments around the matches, matches between `HIT_START` and `HIT_END`.
    #[diesel(sql_type = Text)]
    pub snippet: String,
    /// The whole page text with every match marked the same way.
    #[diesel(sql_type = Text)]
    pub marked: String,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    /// Whether the job made page previews.
    #[diesel(sql_type = Bool)]
    pub previews: bool,
}

/// One page of hits (best first) among `owner`'s pages, and the number of all hits.
pub fn search(
    conn: &mut PgConnection,
    owner: &str,
    query: &str,
    limit: i64,
    offset: i64,
) -> QueryResult<(i64, Vec<Hit>)> {
    let matches = CONFIGS
        .iter()
        .map(|c| {
            format!("(p.search_config = '{c}' AND p.search @@ websearch_to_tsquery('{c}', $2))")
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    let marks = format!("StartSel={HIT_START}, StopSel={HIT_END}");
    // Ranking and counting happen over the matches; the excerpts, which cost
    // the most, only for the page of hits returned.
    let sql = format!(
        "SELECT h.job_id, h.upload_id, h.file_name, h.page, h.rank, h.total, h.previews,
                ts_headline(h.cfg::regconfig, h.text, h.q,
                    '{marks}, MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=\" … \"') AS snippet,
                ts_headline(h.cfg::regconfig, h.text, h.q, '{marks}, HighlightAll=true') AS marked
         FROM (
            SELECT j.id AS job_id, u.id AS upload_id, u.file_name, p.number AS page, p.text,
                   p.search_config AS cfg,
                   websearch_to_tsquery(p.search_config::regconfig, $2) AS q,
                   ts_rank_cd(p.search, websearch_to_tsquery(p.search_config::regconfig, $2)) AS rank,
                   count(*) OVER () AS total,
                   COALESCE((j.formats->>'preview')::boolean, false) AS previews,
                   j.created_at, u.position
            FROM pages p
            JOIN uploads u ON u.id = p.upload_id
            JOIN jobs j ON j.id = u.job_id
            WHERE j.owner = $1 AND ({matches})
            ORDER BY rank DESC, j.created_at DESC, u.position, p.number
            LIMIT $3 OFFSET $4
         ) h
         ORDER BY h.rank DESC, h.created_at DESC, h.position, h.page"
    );
    let hits: Vec<Hit> = diesel::sql_query(sql)
        .bind::<Text, _>(owner)
        .bind::<Text, _>(query)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .load(conn)?;
    let total = match hits.first() {
        Some(h) => h.total,
        // Past the last page the window has no row to report the total on.
        None if offset > 0 => count(conn, owner, query, &matches)?,
        None => 0,
    };
    Ok((total, hits))
}

fn count(conn: &mut PgConnection, owner: &str, query: &str, matches: &str) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let sql = format!(
        "SELECT count(*) AS n FROM pages p JOIN uploads u ON u.id = p.upload_id
         JOIN jobs j ON j.id = u.job_id WHERE j.owner = $1 AND ({matches})"
    );
    let row: Count = diesel::sql_query(sql)
        .bind::<Text, _>(owner)
        .bind::<Text, _>(query)
        .get_result(conn)?;
    Ok(row.n)
}

/// Positions (0-based, among the whitespace-separated tokens of the page text)
/// of the tokens PostgreSQL marked as matches.
pub fn marked_tokens(marked: &str) -> Vec<usize> {
    marked
        .split_whitespace()
        .enumerate()
        .filter(|(_, token)| token.contains(HIT_START))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_marked_tokens() {
        let marked = "The \u{E000}quick\u{E001} brown\n\u{E000}fox\u{E001}, jumps";
        assert_eq!(super::marked_tokens(marked), vec![1, 3]);
        assert!(super::marked_tokens("nothing here").is_empty());
    }

    #[test]
    fn every_configuration_of_the_migration_is_queried() {
        let migration = include_str!("../../migrations/2026-12-02-000002_page_search/up.sql");
        let chosen: Vec<&str> = migration
            .lines()
            .filter_map(|l| l.split_once("THEN '").or_else(|| l.split_once("ELSE '")))
            .filter_map(|(_, rest)| rest.split('\'').next())
            .collect();
        assert!(chosen.len() >= 16, "{chosen:?}");
        for config in chosen {
            assert!(super::CONFIGS.contains(&config), "{config} is not searched");
        }
    }
}
