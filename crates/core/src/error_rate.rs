//! Character error rate: edit distance between recognised and known text over
//! the known text's length, after folding whitespace (OCR layout is not content).

/// Collapses every run of whitespace to one space and trims the ends.
pub fn normalize(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars());
    }
    out
}

/// Levenshtein distance over characters, in O(len) memory.
pub fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// CER of `recognised` against `truth`, 0.0 = perfect.
pub fn character_error_rate(recognised: &str, truth: &str) -> f64 {
    let truth = normalize(truth);
    let recognised = normalize(recognised);
    if truth.is_empty() {
        return if recognised.is_empty() { 0.0 } else { 1.0 };
    }
    edit_distance(&recognised, &truth) as f64 / truth.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_edits_over_truth_length() {
        assert_eq!(character_error_rate("hello  world\n", "hello world"), 0.0);
        assert!((character_error_rate("hallo world", "hello world") - 1.0 / 11.0).abs() < 1e-9);
        assert_eq!(character_error_rate("", "abcd"), 1.0);
        assert_eq!(
            edit_distance(&normalize("kitten"), &normalize("sitting")),
            3
        );
    }
}
