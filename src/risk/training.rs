//! Learning the model of [`super::model`] from labelled texts (`tether triage --train`), and its file.
//!
//! Multinomial logistic regression, fitted by stochastic gradient descent with a step per feature that
//! shrinks as the feature is seen (AdaGrad), classes weighed by how rare they are, and a light L2 penalty.
//! Texts are read by the same rules' reader as at run time, so textspeak and misspellings reach the model
//! as the words they stand for. The order of texts is shuffled by a fixed seed: the same corpus and lexicons
//! give the same file, byte for byte, so a test can tell when the shipped model is out of date.

use std::fmt::Write;

use rustc_hash::FxHashMap as HashMap;

use super::model::{self, Model, tier_slot};
use super::{Classifier, LabelledText};

const EPOCHS: usize = 30;
const LEARNING_RATE: f32 = 0.2;
const L2: f32 = 1e-5;
/// Weights smaller than this in every class are left out of the file: their effect is negligible.
const SMALLEST_WEIGHT: f32 = 0.0005;
const SEED: u64 = 0x7e7e_a11d;

/// A model fitted to a corpus, with the names of its features.
pub struct Trained {
    names: Vec<String>,
    weights: Vec<[f32; 3]>,
    bias: [f32; 3],
    pub texts: usize,
}

/// Fits a model to `texts`, read by `classifier`'s reader.
pub fn train(classifier: &Classifier, texts: &[LabelledText]) -> Trained {
    let mut index: HashMap<u64, u32> = HashMap::default();
    let mut names: Vec<String> = Vec::new();
    let mut examples: Vec<(Vec<(u32, f32)>, usize)> = Vec::with_capacity(texts.len());
    for text in texts {
        let words = classifier.read(super::bounded(&text.text), &mut Vec::new());
        let mut features: HashMap<u32, f32> = HashMap::default();
        model::for_each_feature(&words, |feature, value| {
            let id = *index.entry(feature.key()).or_insert_with(|| {
                names.push(feature.name());
                (names.len() - 1) as u32
            });
            *features.entry(id).or_default() += value;
        });
        let mut features: Vec<(u32, f32)> = features.into_iter().collect();
        // A map's order is no order: sorted, the sums of a text's weights are the same on every run.
        features.sort_by_key(|&(id, _)| id);
        examples.push((features, tier_slot(text.tier)));
    }

    let mut per_class = [0usize; 3];
    for (_, class) in &examples {
        per_class[*class] += 1;
    }
    // A class's texts weigh as if the three classes were equally common.
    let class_weight = per_class.map(|count| {
        if count == 0 {
            0.0
        } else {
            examples.len() as f32 / (3.0 * count as f32)
        }
    });

    let mut weights = vec![[0f32; 3]; names.len()];
    let mut squared = vec![[0f32; 3]; names.len()];
    let mut bias = [0f32; 3];
    let mut bias_squared = [0f32; 3];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut random = SEED;
    for _ in 0..EPOCHS {
        shuffle(&mut order, &mut random);
        for &i in &order {
            let (features, class) = &examples[i];
            let mut scores = bias;
            for &(id, value) in features {
                for (score, weight) in scores.iter_mut().zip(&weights[id as usize]) {
                    *score += weight * value;
                }
            }
            let p = model::softmax(scores);
            let error: [f32; 3] =
                std::array::from_fn(|c| (p[c] - if c == *class { 1.0 } else { 0.0 }) * class_weight[*class]);
            for c in 0..3 {
                bias_squared[c] += error[c] * error[c];
                bias[c] -= LEARNING_RATE * error[c] / (bias_squared[c].sqrt() + 1e-8);
            }
            for &(id, value) in features {
                let (w, g) = (&mut weights[id as usize], &mut squared[id as usize]);
                for c in 0..3 {
                    let gradient = error[c] * value + L2 * w[c];
                    g[c] += gradient * gradient;
                    w[c] -= LEARNING_RATE * gradient / (g[c].sqrt() + 1e-8);
                }
            }
        }
    }
    Trained {
        names,
        weights,
        bias,
        texts: examples.len(),
    }
}

/// Fisher–Yates with xorshift: the same seed, the same order, on every machine.
fn shuffle(order: &mut [usize], state: &mut u64) {
    for i in (1..order.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let j = (*state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

impl Trained {
    /// The model as the file would give it, without writing one: for scoring a training at once
    /// (`tether triage --cross-validate`).
    pub fn into_model(self) -> Model {
        let weights = self
            .names
            .iter()
            .zip(self.weights)
            .filter(|(_, w)| w.iter().any(|x| x.abs() >= SMALLEST_WEIGHT))
            .filter_map(|(name, w)| model::key_of_name(name).map(|key| (key, w)))
            .collect();
        Model::new(weights, self.bias)
    }

    /// The model file: a header saying what it was learnt from, the bias, then one feature per line with its
    /// weights for none, concern and crisis, sorted by name so that a retraining diffs line by line.
    pub fn to_file(&self, sources: &[String]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Tether risk model: weights of words and letter groups for none, concern and crisis, learnt by\n\
             # `tether triage --train` from {} labelled synthetic texts. Generated: do not edit; after changing\n\
             # the corpus or the lexicons, retrain from the repository's root with\n\
             # tether triage --train {}\n# sources: {}",
            self.texts,
            sources.join(" "),
            sources.join(", ")
        );
        let mut kept: Vec<(&String, &[f32; 3])> = self
            .names
            .iter()
            .zip(&self.weights)
            .filter(|(_, w)| w.iter().any(|x| x.abs() >= SMALLEST_WEIGHT))
            .collect();
        kept.sort_by(|a, b| a.0.cmp(b.0));
        let _ = writeln!(out, "{FEATURES_LINE}{}", kept.len());
        let _ = writeln!(out, "bias\t{}", weights_text(&self.bias));
        for (name, weights) in kept {
            let _ = writeln!(out, "{name}\t{}", weights_text(weights));
        }
        out
    }
}

fn weights_text(weights: &[f32; 3]) -> String {
    weights.iter().map(|w| format!("{w:.4}")).collect::<Vec<_>>().join("\t")
}

/// The header line that says how many features follow: a file cut short at a line's end still parses, so
/// the count is what tells it from a whole one.
const FEATURES_LINE: &str = "# features: ";

/// Reads a model file; an error names the line.
pub fn parse(text: &str) -> Result<Model, (usize, String)> {
    let mut weights = HashMap::default();
    let mut bias = None;
    let mut features = 0usize;
    let mut announced = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if let Some(count) = line.strip_prefix(FEATURES_LINE) {
            announced = Some(
                count
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| (number, format!("`{count}` is no count of features")))?,
            );
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 4 {
            return Err((
                number,
                format!(
                    "has {} tab-separated fields; expected a feature and three weights",
                    fields.len()
                ),
            ));
        }
        let mut parsed = [0f32; 3];
        for (slot, field) in parsed.iter_mut().zip(&fields[1..]) {
            *slot = field
                .parse::<f32>()
                .ok()
                .filter(|w| w.is_finite())
                .ok_or_else(|| (number, format!("weight `{field}` is not a number")))?;
        }
        if fields[0] == "bias" {
            bias = Some(parsed);
            continue;
        }
        let key = model::key_of_name(fields[0]).ok_or_else(|| {
            (
                number,
                format!("feature `{}` is none of w:word, b:word word, c:letters", fields[0]),
            )
        })?;
        weights.insert(key, parsed);
        features += 1;
    }
    let bias = bias.ok_or_else(|| (0, "has no `bias` line".to_owned()))?;
    match announced {
        None => return Err((0, format!("has no `{FEATURES_LINE}N` line"))),
        Some(count) if count != features => {
            return Err((
                0,
                format!("holds {features} features where its header says {count}: it is cut short or was edited"),
            ));
        }
        Some(_) => {}
    }
    Ok(Model::new(weights, bias))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::lexicon_table::rules;
    use crate::risk::{Tier, parse_corpus};

    const CORPUS: &str = "\
crisis\ten\ttook every pill in the bottle tonight\tact
crisis\ten\tthe pills are lined up, tonight is the night\tmeans and time
crisis\ten\ti swallowed the whole bottle of pills\tact
concern\ten\tdrank again last night, craving more\trelapse
concern\ten\tusing again and craving all day\trelapse
concern\ten\tcraving so bad, drank a six pack\trelapse
everyday\ten\tsee you at the clinic on monday\tlogistics
everyday\ten\tthanks, the bus pass came today\tthanks
everyday\ten\tmonday works, see you then\tlogistics
";

    #[test]
    fn a_model_learns_its_corpus_the_same_way_every_time() {
        let rules = rules();
        let texts = parse_corpus(CORPUS).unwrap();
        let trained = train(&rules, &texts);
        let file = trained.to_file(&["small.tsv".into()]);
        assert_eq!(
            file,
            train(&rules, &texts).to_file(&["small.tsv".into()]),
            "training is deterministic"
        );
        assert!(file.contains("# sources: small.tsv"), "{file}");

        let model = parse(&file).unwrap();
        let read = |text: &str| model.probabilities(&rules.read(text, &mut Vec::new()));
        let [_, _, crisis] = read("all the pills tonight");
        assert!(crisis > 0.5, "{crisis}");
        let [_, concern, _] = read("craving, drank again");
        assert!(concern > 0.5, "{concern}");
        let [everyday, _, _] = read("see you monday");
        assert!(everyday > 0.5, "{everyday}");
        let strongest = model.strongest_words(&rules.read("all the pills tonight", &mut Vec::new()), Tier::Crisis, 2);
        assert_eq!(strongest.len(), 2, "{strongest:?}");
    }

    #[test]
    fn a_broken_model_file_names_its_line() {
        let err = |text: &str| parse(text).unwrap_err();
        let header = "# features: 1\nbias\t0\t0\t0\n";
        assert_eq!(err(&format!("# a model\n{header}w:pills\t0.1\t0.2\n")).0, 4);
        assert!(
            err(&format!("{header}w:pills\t0.1\tNaN\t0\n"))
                .1
                .contains("`NaN` is not a number")
        );
        assert!(
            err(&format!("{header}q:pills\t0.1\t0.1\t0\n"))
                .1
                .contains("feature `q:pills`")
        );
        assert!(
            err("# features: 1\nw:pills\t0.1\t0.1\t0\n")
                .1
                .contains("no `bias` line")
        );
        let unannounced = err("bias\t0\t0\t0\nw:pills\t0.1\t0.1\t0\n").1;
        assert!(unannounced.contains("no `# features: N` line"), "{unannounced}");
        let cut_short = err("# features: 3\nbias\t0\t0\t0\nw:pills\t0.1\t0.1\t0\n").1;
        assert!(
            cut_short.contains("holds 1 features where its header says 3"),
            "{cut_short}"
        );
        assert!(parse(&format!("{header}b:all pills\t0.1\t-0.2\t0.3\n")).is_ok());
    }
}

/// The shipped model against a fresh training on the files its header names: a change to the corpus or
/// the lexicons that is not followed by `tether triage --train` fails here.
#[cfg(test)]
#[test]
fn the_shipped_model_is_learnt_from_the_current_corpus_and_lexicons() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("message_templates/risk");
    let shipped = std::fs::read_to_string(dir.join(super::MODEL_FILE)).unwrap();
    let sources: Vec<String> = shipped
        .lines()
        .find_map(|line| line.strip_prefix("# sources: "))
        .expect("the model names its sources")
        .split(", ")
        .map(str::to_owned)
        .collect();
    let mut texts = Vec::new();
    for source in &sources {
        let text = std::fs::read_to_string(root.join(source)).unwrap();
        texts.extend(super::parse_corpus(&text).unwrap());
    }
    let mut problems = Vec::new();
    let rules = super::load_rules(&dir, &mut problems).unwrap();
    let fresh = train(&rules, &texts).to_file(&sources);
    // Within a rounding of the last digit: another platform's `exp` may differ in its last bits.
    let weights = |file: &str| -> HashMap<String, [f32; 3]> {
        file.lines()
            .filter(|line| !line.starts_with('#'))
            .map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                let parsed: Vec<f32> = fields[1..].iter().map(|w| w.parse().unwrap()).collect();
                (fields[0].to_owned(), [parsed[0], parsed[1], parsed[2]])
            })
            .collect()
    };
    let (shipped_weights, fresh_weights) = (weights(&shipped), weights(&fresh));
    let differing: Vec<&String> = shipped_weights
        .keys()
        .chain(fresh_weights.keys())
        .filter(|name| {
            let a = shipped_weights.get(*name).copied().unwrap_or_default();
            let b = fresh_weights.get(*name).copied().unwrap_or_default();
            a.iter().zip(&b).any(|(a, b)| (a - b).abs() > 0.002)
        })
        .take(5)
        .collect();
    assert!(
        differing.is_empty(),
        "message_templates/risk/model.tsv is out of date ({differing:?} differ): run `tether triage --train {}`",
        sources.join(" ")
    );
}
