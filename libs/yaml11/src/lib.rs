//! YAML loaded exactly as PyYAML 6's `yaml.safe_load` loads it, as JSON.
//!
//! [`load`] and [`load_all`] reproduce `yaml.safe_load` / `yaml.safe_load_all` (YAML 1.1 implicit
//! resolution, merge keys, anchors) and return the JSON that Python's `json.dumps` would produce
//! from the loaded object. Use them where a Python charm library parses YAML with PyYAML and
//! forwards the result as JSON (the `kubernetes_manifest` interface does). The syntax is read by
//! `granit-parser`, the event parser `serde-saphyr` is built on.
//!
//! ```
//! let doc = yaml11::load("enabled: on\nmode: 0755\nname: ~\n")?;
//! assert_eq!(doc, serde_json::json!({"enabled": true, "mode": 493, "name": null}));
//! # Ok::<(), yaml11::Error>(())
//! ```
//!
//! # Where the PyYAML-compatible loader diverges from PyYAML + `json.dumps`
//!
//! The loader returns an error instead of a value whenever Python would either fail or produce
//! something that is not JSON:
//!
//! * timestamps (`2024-01-01`, `!!timestamp`): PyYAML builds a `date`/`datetime` and `json.dumps`
//!   raises `TypeError` → [`Error::Timestamp`];
//! * `.inf`, `-.inf`, `.nan` and float literals that overflow (`1.0e+400`) as values: `json.dumps`
//!   writes `Infinity`/`NaN`, which is not JSON → [`Error::NonFiniteFloat`] (as mapping keys
//!   they are fine: `json.dumps` writes the key strings `"Infinity"`, `"-Infinity"`, `"NaN"`, and
//!   so does this loader);
//! * integers outside `i64`/`u64` as values: Python has arbitrary-precision integers, a
//!   `serde_json::Number` (without `arbitrary_precision`) does not → [`Error::IntegerOutOfRange`]
//!   (as keys they are fine: the key is the exact decimal text);
//! * `!!binary`, `!!set`: not JSON serialisable → [`Error::NotJsonSerializable`];
//! * two keys of one mapping that are different Python objects but the same JSON text (`1` and
//!   `"1"`): `json.dumps` writes the key twice, a `serde_json::Map` cannot →
//!   [`Error::DuplicateJsonKey`];
//! * circular structures (`&a [*a]`): `json.dumps` raises `ValueError` → [`Error::RecursiveAlias`];
//! * resource caps PyYAML does not have: at most [`MAX_NODES`] nodes and
//!   [`MAX_ALIAS_BYTES`] bytes of scalar text added by aliases and merge keys (alias and
//!   merge bombs, "billion laughs" with long strings), and [`MAX_DEPTH`] nesting levels;
//! * sexagesimal integers (`1:2:3`, base 60) whose value has more than 4300 decimal digits:
//!   Python builds the int, then `json.dumps` refuses to write it (`sys.int_info`'s string
//!   conversion limit) → [`Error::IntegerTooLong`]. The loader stops as soon as the value
//!   grows past the limit, so a long run of `:59` cannot make it loop.
//!
//! The syntax itself is read by `granit-parser` (a YAML 1.2 parser run in its PyYAML-compatible
//! mode), not by PyYAML's scanner, so a few malformed inputs PyYAML rejects load here: tabs used as
//! separators outside quoted and block scalars (`a:\tb`, `a: b\tc`, a trailing tab), a lone `:`,
//! and a stream made of a lone `...` (empty here). Every well-formed input of our cross-check
//! against PyYAML parsed the same. Explicit `!!int`/`!!float` tags on non-canonical text are parsed like Python's
//! `int()`/`float()` for ASCII input only.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

use granit_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, StrInput};
use regex::Regex;
use serde_json::{Map, Number, Value};

/// A YAML document that could not be loaded, or that has no JSON form.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not valid YAML.
    #[error("invalid YAML at {mark}: {message}")]
    Syntax {
        /// What the parser found wrong.
        message: String,
        /// Where.
        mark: Mark,
    },
    /// An anchor name defined twice in one document (PyYAML's composer refuses this).
    #[error("found duplicate anchor {name:?} at {mark}")]
    DuplicateAnchor {
        /// The anchor name, without `&`.
        name: String,
        /// Where the second definition is.
        mark: Mark,
    },
    /// [`load`] was given a stream of more than one document.
    #[error("expected a single document in the stream, but found another document at {mark}")]
    MultipleDocuments {
        /// Where the second document starts.
        mark: Mark,
    },
    /// A timestamp, which PyYAML loads as a `date`/`datetime` that `json.dumps` cannot encode.
    #[error(
        "YAML timestamp {value:?} at {mark} has no JSON form (PyYAML loads it as a date/datetime, \
         which json.dumps rejects); quote it to keep it a string"
    )]
    Timestamp {
        /// The scalar text.
        value: String,
        /// Where.
        mark: Mark,
    },
    /// An integer value outside the `i64`/`u64` range of a JSON number here.
    #[error("integer {value} at {mark} does not fit in a 64-bit JSON number")]
    IntegerOutOfRange {
        /// The integer in decimal.
        value: String,
        /// Where.
        mark: Mark,
    },
    /// A float value that is infinite or NaN, which JSON cannot represent.
    #[error(
        "float {value:?} at {mark} is not finite; JSON has no Infinity or NaN \
         (Python's json.dumps would emit non-JSON text)"
    )]
    NonFiniteFloat {
        /// The scalar text.
        value: String,
        /// Where.
        mark: Mark,
    },
    /// A scalar whose text does not fit its (explicit) tag, e.g. `!!int abc`.
    #[error("cannot construct {tag} from {value:?} at {mark}")]
    InvalidScalar {
        /// The tag URI.
        tag: String,
        /// The scalar text.
        value: String,
        /// Where.
        mark: Mark,
    },
    /// A tag PyYAML's SafeLoader has no constructor for, e.g. `!custom` (or `<<` outside a key).
    #[error("could not determine a constructor for the tag {tag:?} at {mark}")]
    UnsupportedTag {
        /// The tag URI.
        tag: String,
        /// Where.
        mark: Mark,
    },
    /// A value PyYAML loads but `json.dumps` cannot encode (`!!binary` bytes, `!!set`).
    #[error("value tagged {tag} at {mark} is not JSON serializable")]
    NotJsonSerializable {
        /// The tag URI.
        tag: String,
        /// Where.
        mark: Mark,
    },
    /// A node of the wrong kind for its tag or position (`!!map` on a scalar, merging a scalar).
    #[error("cannot construct node at {mark}: {message}")]
    Construct {
        /// What was expected and what was found.
        message: String,
        /// Where.
        mark: Mark,
    },
    /// A mapping key that is a sequence or mapping (unhashable in Python).
    #[error("mapping key at {mark} is a {kind}; PyYAML cannot use it as a key (unhashable)")]
    UnhashableKey {
        /// `sequence`, `mapping` or the tag that made it a collection.
        kind: String,
        /// Where the key is.
        mark: Mark,
    },
    /// Two distinct keys of one mapping that `json.dumps` would both write as the same string.
    #[error(
        "mapping key at {mark} becomes JSON key {key:?}, which another key of the same mapping \
         also becomes (e.g. `1` and \"1\"); json.dumps would write the key twice"
    )]
    DuplicateJsonKey {
        /// The JSON key text.
        key: String,
        /// Where the second key is.
        mark: Mark,
    },
    /// An alias that makes a collection contain itself.
    #[error(
        "the node anchored at {mark} contains an alias to itself; JSON cannot represent a circular structure"
    )]
    RecursiveAlias {
        /// Where the anchored node starts.
        mark: Mark,
    },
    /// Aliases and merge keys expand the document by more nodes than allowed.
    #[error("YAML expands by more than {limit} nodes through aliases or merge keys (alias bomb?)")]
    TooManyNodes {
        /// The cap, [`MAX_NODES`].
        limit: usize,
    },
    /// Aliases and merge keys expand the document by more scalar text than allowed.
    #[error(
        "YAML expands by more than {limit} bytes of text through aliases or merge keys (alias bomb?)"
    )]
    TooManyBytes {
        /// The cap, [`MAX_ALIAS_BYTES`].
        limit: usize,
    },
    /// An integer whose decimal text would be longer than Python converts (4300 digits).
    #[error("integer at {mark} has more than {limit} decimal digits")]
    IntegerTooLong {
        /// The cap, Python's `sys.int_info.default_max_str_digits`.
        limit: usize,
        /// Where.
        mark: Mark,
    },
    /// The document nests deeper than allowed.
    #[error("YAML nests deeper than {limit} levels at {mark}")]
    TooDeep {
        /// The cap, [`MAX_DEPTH`].
        limit: usize,
        /// Where.
        mark: Mark,
    },
}

/// Most nodes that aliases and merge keys may add, beyond the nodes written in the text, in one
/// [`load`]/[`load_all`] call: a guard against alias ("billion laughs") and merge
/// bombs. A document without aliases always fits, whatever its size.
pub const MAX_NODES: usize = 1_000_000;

/// Most bytes of scalar text that aliases and merge keys may add, beyond the text itself, in one
/// [`load`]/[`load_all`] call: with [`MAX_NODES`] alone, a 1 MB string
/// aliased a million times would still ask for a terabyte. A document without aliases always
/// fits, whatever its size.
pub const MAX_ALIAS_BYTES: usize = 16 * 1024 * 1024;

/// Deepest nesting [`load`]/[`load_all`] construct (PyYAML itself exceeds Python's
/// recursion limit somewhere between 400 and 500 nested collections).
pub const MAX_DEPTH: usize = 512;

/// Python refuses to convert integers of more than this many digits (`sys.int_info`
/// `default_max_str_digits`), so PyYAML cannot load them either.
const MAX_INT_DIGITS: usize = 4300;

/// A position in YAML source text: 1-based line and 1-based column (counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number, starting at 1, counted in characters.
    pub column: usize,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

impl Mark {
    fn from_marker(marker: &Marker) -> Self {
        Self {
            line: marker.line(),
            column: marker.col().saturating_add(1),
        }
    }
}

/// Loads every document of `text` the way PyYAML's `yaml.safe_load_all` does (YAML 1.1
/// resolution), returning each document as JSON.
///
/// An empty stream gives an empty `Vec`; an empty document (`---` alone) gives `Value::Null`.
/// See the [module documentation](self) for the cases that are errors here although PyYAML loads
/// them (timestamps, non-finite floats, integers beyond 64 bits, ...).
pub fn load_all(text: &str) -> Result<Vec<Value>, Error> {
    let mut composer = Composer::new(text);
    let mut budget = Budget::new(text);
    let mut documents = Vec::new();
    while composer.next_document_start()?.is_some() {
        let document = composer.compose_document()?;
        budget.nodes = budget.nodes.saturating_add(document.nodes.len());
        documents.push(construct_document(document, &mut budget)?);
    }
    Ok(documents)
}

/// Loads exactly one document the way `yaml.safe_load` does. Zero documents -> Ok(Value::Null)
/// (PyYAML returns None for empty input); more than one -> [`Error::MultipleDocuments`]
/// (PyYAML: "expected a single document in the stream").
pub fn load(text: &str) -> Result<Value, Error> {
    let mut composer = Composer::new(text);
    if composer.next_document_start()?.is_none() {
        return Ok(Value::Null);
    }
    let document = composer.compose_document()?;
    // Like PyYAML's `get_single_node`: the check comes before the document is constructed.
    if let Some(mark) = composer.next_document_start()? {
        return Err(Error::MultipleDocuments { mark });
    }
    let mut budget = Budget::new(text);
    budget.nodes = budget.nodes.saturating_add(document.nodes.len());
    construct_document(document, &mut budget)
}

/// What one load may still construct: the guard against alias and merge bombs.
struct Budget {
    /// Nodes: those of the text plus [`MAX_NODES`].
    nodes: usize,
    /// Bytes of scalar text: twice the text's length (an escape such as `\L` decodes to more
    /// bytes than it takes) plus [`MAX_ALIAS_BYTES`].
    bytes: usize,
}

impl Budget {
    fn new(text: &str) -> Self {
        Budget {
            nodes: MAX_NODES,
            bytes: MAX_ALIAS_BYTES.saturating_add(text.len().saturating_mul(2)),
        }
    }
}

const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// The tag of a composed node, as PyYAML's composer and resolver set it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NodeTag {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Seq,
    Map,
    Merge,
    Value,
    Timestamp,
    Binary,
    Omap,
    Pairs,
    Set,
    Other(String),
}

impl NodeTag {
    fn from_uri(uri: &str) -> Self {
        let Some(name) = uri.strip_prefix(CORE_TAG_PREFIX) else {
            return Self::Other(uri.to_owned());
        };
        match name {
            "null" => Self::Null,
            "bool" => Self::Bool,
            "int" => Self::Int,
            "float" => Self::Float,
            "str" => Self::Str,
            "seq" => Self::Seq,
            "map" => Self::Map,
            "merge" => Self::Merge,
            "value" => Self::Value,
            "timestamp" => Self::Timestamp,
            "binary" => Self::Binary,
            "omap" => Self::Omap,
            "pairs" => Self::Pairs,
            "set" => Self::Set,
            _ => Self::Other(uri.to_owned()),
        }
    }

    fn uri(&self) -> String {
        let name = match self {
            Self::Null => "null",
            Self::Bool => "bool",
            Self::Int => "int",
            Self::Float => "float",
            Self::Str => "str",
            Self::Seq => "seq",
            Self::Map => "map",
            Self::Merge => "merge",
            Self::Value => "value",
            Self::Timestamp => "timestamp",
            Self::Binary => "binary",
            Self::Omap => "omap",
            Self::Pairs => "pairs",
            Self::Set => "set",
            Self::Other(uri) => return uri.clone(),
        };
        format!("{CORE_TAG_PREFIX}{name}")
    }
}

/// PyYAML's implicit resolvers (`yaml/resolver.py`). The bool and null patterns are sets of
/// literal words, matched as such; the other three are regexes, each compiled on first use only
/// (compiling all five cost a charm about half a millisecond at every hook, whether or not its
/// YAML held a number or a date). A pattern is `None` only if it failed to compile, which
/// `tests::resolver_patterns_compile` rules out.
///
/// PyYAML's bool pattern: `^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`.
fn is_bool_word(value: &str) -> bool {
    matches!(
        value,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// PyYAML's null pattern: `^(?:~|null|Null|NULL|)$`.
fn is_null_word(value: &str) -> bool {
    matches!(value, "~" | "null" | "Null" | "NULL" | "")
}

static FLOAT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$",
    )
    .ok()
});

static INT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+
        |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    )
    .ok()
});

static TIMESTAMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[\ \t]+)[0-9][0-9]?
        :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
    )
    .ok()
});

fn regex_matches(re: &LazyLock<Option<Regex>>, value: &str) -> bool {
    re.as_ref().is_some_and(|re| re.is_match(value))
}

/// The tag PyYAML's resolver gives an implicitly typed scalar: the resolvers registered for the
/// scalar's first character, tried in the order PyYAML registers them (bool, float, int, merge,
/// null, timestamp, value).
fn resolve_implicit(value: &str) -> NodeTag {
    let first = value.chars().next();
    let starts_with = |set: &str| first.is_some_and(|c| set.contains(c));
    if starts_with("yYnNtTfFoO") && is_bool_word(value) {
        NodeTag::Bool
    } else if starts_with("-+0123456789.") && regex_matches(&FLOAT, value) {
        NodeTag::Float
    } else if starts_with("-+0123456789") && regex_matches(&INT, value) {
        NodeTag::Int
    } else if value == "<<" {
        NodeTag::Merge
    } else if (first.is_none() || starts_with("~nN")) && is_null_word(value) {
        NodeTag::Null
    } else if starts_with("0123456789") && regex_matches(&TIMESTAMP, value) {
        NodeTag::Timestamp
    } else if value == "=" {
        NodeTag::Value
    } else {
        NodeTag::Str
    }
}

/// A composed node (PyYAML's `ScalarNode`/`SequenceNode`/`MappingNode`). Aliases share node ids.
#[derive(Debug)]
struct Node {
    tag: NodeTag,
    mark: Mark,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Scalar(String),
    Seq(Vec<usize>),
    Map(Vec<(usize, usize)>),
}

impl Body {
    fn kind(&self) -> &'static str {
        match self {
            Self::Scalar(_) => "scalar",
            Self::Seq(_) => "sequence",
            Self::Map(_) => "mapping",
        }
    }
}

/// A collection still being composed.
enum Frame {
    Seq(usize),
    Map { id: usize, key: Option<usize> },
}

/// A composed document: its node arena and the root node.
struct Document {
    nodes: Vec<Node>,
    root: usize,
}

fn syntax_error(error: &ScanError) -> Error {
    let mut message = error.info();
    if message.is_empty() {
        message = format!("{:?}", error.kind());
    }
    Error::Syntax {
        message,
        mark: Mark::from_marker(error.marker()),
    }
}

fn dangling(mark: Mark) -> Error {
    Error::Construct {
        message: "internal error: dangling node reference".to_owned(),
        mark,
    }
}

/// Reads parser events and composes one document at a time (PyYAML's `Composer`).
struct Composer<'a> {
    parser: Parser<'a, StrInput<'a>>,
}

impl<'a> Composer<'a> {
    fn new(text: &'a str) -> Self {
        let options = granit_parser::options! {
            emit_comments: false,
            // Anchor names, to refuse duplicates as PyYAML's composer does.
            emit_anchor_events: true,
            // libyaml/PyYAML: `key: |\n  text` at EOF without a line break is "text".
            block_scalar_eof_without_line_feed: true,
            // Above what PyYAML manages before hitting Python's recursion limit.
            flow_nesting_limit: MAX_DEPTH,
            block_nesting_limit: MAX_DEPTH,
        };
        Self {
            parser: Parser::new_from_str_with_options(text, options),
        }
    }

    fn next_event(&mut self) -> Result<Option<(Event<'a>, Span)>, Error> {
        match self.parser.next() {
            None => Ok(None),
            Some(Ok(event)) => Ok(Some(event)),
            Some(Err(error)) => Err(syntax_error(&error)),
        }
    }

    /// Reads up to the next document start and returns its position; `None` at end of stream.
    fn next_document_start(&mut self) -> Result<Option<Mark>, Error> {
        while let Some((event, span)) = self.next_event()? {
            match event {
                Event::DocumentStart(..) => return Ok(Some(Mark::from_marker(&span.start))),
                Event::StreamEnd => return Ok(None),
                _ => {}
            }
        }
        Ok(None)
    }

    /// Composes the document whose `DocumentStart` event was just read.
    fn compose_document(&mut self) -> Result<Document, Error> {
        let mut nodes: Vec<Node> = Vec::new();
        let mut anchors: HashMap<usize, usize> = HashMap::new();
        let mut anchor_names: HashSet<String> = HashSet::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<usize> = None;
        let mut last_mark = Mark::default();
        while let Some((event, span)) = self.next_event()? {
            // PyYAML reports a node at its properties; the tag is the one we know the position of.
            let mark = Mark::from_marker(span.tag_start.as_ref().unwrap_or(&span.start));
            last_mark = mark;
            let complete = match event {
                Event::DocumentEnd | Event::StreamEnd => break,
                Event::Anchor(_, name) => {
                    if !anchor_names.insert(name.to_string()) {
                        return Err(Error::DuplicateAnchor {
                            name: name.into_owned(),
                            mark,
                        });
                    }
                    None
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let tag = match tag.as_deref().map(full_tag) {
                        None if style == ScalarStyle::Plain => resolve_implicit(&value),
                        None => NodeTag::Str,
                        // PyYAML quirk: the non-specific tag `!` turns implicit resolution on,
                        // even for quoted scalars (`! '12'` loads as the integer 12).
                        Some(t) if t == "!" => resolve_implicit(&value),
                        Some(t) => NodeTag::from_uri(&t),
                    };
                    let id = push_node(
                        &mut nodes,
                        &mut anchors,
                        anchor,
                        tag,
                        mark,
                        Body::Scalar(value.into_owned()),
                    );
                    Some(id)
                }
                Event::SequenceStart(_, anchor, tag) => {
                    let tag = collection_tag(tag.as_deref(), NodeTag::Seq);
                    let id = push_node(
                        &mut nodes,
                        &mut anchors,
                        anchor,
                        tag,
                        mark,
                        Body::Seq(Vec::new()),
                    );
                    stack.push(Frame::Seq(id));
                    None
                }
                Event::MappingStart(_, anchor, tag) => {
                    let tag = collection_tag(tag.as_deref(), NodeTag::Map);
                    let id = push_node(
                        &mut nodes,
                        &mut anchors,
                        anchor,
                        tag,
                        mark,
                        Body::Map(Vec::new()),
                    );
                    stack.push(Frame::Map { id, key: None });
                    None
                }
                Event::SequenceEnd | Event::MappingEnd => stack.pop().map(|frame| match frame {
                    Frame::Seq(id) | Frame::Map { id, .. } => id,
                }),
                Event::Alias(anchor) => match anchors.get(&anchor) {
                    Some(&id) => Some(id),
                    None => {
                        return Err(Error::Syntax {
                            message: "found undefined alias".to_owned(),
                            mark,
                        });
                    }
                },
                _ => None,
            };
            if let Some(id) = complete {
                attach(&mut nodes, &mut stack, &mut root, id);
            }
        }
        let root = match root {
            Some(root) => root,
            None => {
                nodes.push(Node {
                    tag: NodeTag::Null,
                    mark: last_mark,
                    body: Body::Scalar(String::new()),
                });
                nodes.len().saturating_sub(1)
            }
        };
        Ok(Document { nodes, root })
    }
}

fn full_tag(tag: &granit_parser::Tag) -> String {
    format!("{}{}", tag.handle(), tag.suffix())
}

fn collection_tag(tag: Option<&granit_parser::Tag>, default: NodeTag) -> NodeTag {
    match tag.map(full_tag) {
        None => default,
        Some(t) if t == "!" => default,
        Some(t) => NodeTag::from_uri(&t),
    }
}

fn push_node(
    nodes: &mut Vec<Node>,
    anchors: &mut HashMap<usize, usize>,
    anchor: usize,
    tag: NodeTag,
    mark: Mark,
    body: Body,
) -> usize {
    let id = nodes.len();
    nodes.push(Node { tag, mark, body });
    if anchor != 0 {
        anchors.insert(anchor, id);
    }
    id
}

/// Adds the completed node `id` to the collection being composed (or makes it the root).
fn attach(nodes: &mut [Node], stack: &mut [Frame], root: &mut Option<usize>, id: usize) {
    match stack.last_mut() {
        None => *root = Some(id),
        Some(Frame::Seq(parent)) => {
            if let Some(Node {
                body: Body::Seq(items),
                ..
            }) = nodes.get_mut(*parent)
            {
                items.push(id);
            }
        }
        Some(Frame::Map { id: parent, key }) => match key.take() {
            None => *key = Some(id),
            Some(key_id) => {
                if let Some(Node {
                    body: Body::Map(pairs),
                    ..
                }) = nodes.get_mut(*parent)
                {
                    pairs.push((key_id, id));
                }
            }
        },
    }
}

/// Unsigned arbitrary-precision integer (little-endian base-10⁹ limbs), enough for Python `int`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct BigUint {
    limbs: Vec<u32>,
}

const LIMB_BASE: u64 = 1_000_000_000;

impl BigUint {
    fn from_u64(mut value: u64) -> Self {
        let mut limbs = Vec::new();
        while value > 0 {
            limbs.push((value % LIMB_BASE) as u32);
            value /= LIMB_BASE;
        }
        Self { limbs }
    }

    fn is_zero(&self) -> bool {
        self.limbs.iter().all(|&limb| limb == 0)
    }

    /// `self = self * mul + add`.
    fn mul_add(&mut self, mul: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.limbs {
            let v = u64::from(*limb) * u64::from(mul) + carry;
            *limb = (v % LIMB_BASE) as u32;
            carry = v / LIMB_BASE;
        }
        while carry > 0 {
            self.limbs.push((carry % LIMB_BASE) as u32);
            carry /= LIMB_BASE;
        }
    }

    fn add(&mut self, other: &BigUint) {
        let mut carry = 0u64;
        let len = self.limbs.len().max(other.limbs.len());
        for i in 0..len {
            let b = u64::from(other.limbs.get(i).copied().unwrap_or(0));
            match self.limbs.get_mut(i) {
                Some(limb) => {
                    let v = u64::from(*limb) + b + carry;
                    *limb = (v % LIMB_BASE) as u32;
                    carry = v / LIMB_BASE;
                }
                None => {
                    let v = b + carry;
                    self.limbs.push((v % LIMB_BASE) as u32);
                    carry = v / LIMB_BASE;
                }
            }
        }
        if carry > 0 {
            self.limbs.push(carry as u32);
        }
    }

    fn to_u64(&self) -> Option<u64> {
        let mut value: u64 = 0;
        for &limb in self.limbs.iter().rev() {
            value = value.checked_mul(LIMB_BASE)?.checked_add(u64::from(limb))?;
        }
        Some(value)
    }

    /// The number of decimal digits (1 for zero).
    fn decimal_digits(&self) -> usize {
        let mut limbs = self.limbs.iter().rev().skip_while(|&&limb| limb == 0);
        match limbs.next() {
            None => 1,
            Some(top) => top.to_string().len() + 9 * limbs.count(),
        }
    }

    fn to_decimal(&self) -> String {
        let mut limbs = self.limbs.iter().rev().skip_while(|&&limb| limb == 0);
        let Some(first) = limbs.next() else {
            return "0".to_owned();
        };
        let mut out = first.to_string();
        for limb in limbs {
            out.push_str(&format!("{limb:09}"));
        }
        out
    }
}

/// A Python `int`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PyInt {
    negative: bool,
    magnitude: BigUint,
}

impl PyInt {
    fn new(negative: bool, magnitude: BigUint) -> Self {
        let negative = negative && !magnitude.is_zero();
        Self {
            negative,
            magnitude,
        }
    }

    fn to_decimal(&self) -> String {
        let digits = self.magnitude.to_decimal();
        if self.negative {
            format!("-{digits}")
        } else {
            digits
        }
    }

    fn to_number(&self) -> Option<Number> {
        let magnitude = self.magnitude.to_u64()?;
        if self.negative {
            0i64.checked_sub_unsigned(magnitude).map(Number::from)
        } else {
            Some(Number::from(magnitude))
        }
    }
}

/// Python's `int(text, radix)` for ASCII text: surrounding whitespace, one sign, the radix prefix
/// for radix 2/8/16, at least one digit. Underscores were already removed by the caller.
fn py_int(text: &str, radix: u32) -> Option<PyInt> {
    let text = text.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let prefixes: &[&str] = match radix {
        2 => &["0b", "0B"],
        8 => &["0o", "0O"],
        16 => &["0x", "0X"],
        _ => &[],
    };
    let digits = prefixes
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix))
        .unwrap_or(text);
    if digits.is_empty() || digits.len() > MAX_INT_DIGITS {
        return None;
    }
    let mut magnitude = BigUint::default();
    // Feed several digits per multiplication while the multiplier stays below the limb base.
    let (mut chunk, mut scale) = (0u32, 1u32);
    for c in digits.chars() {
        let digit = c.to_digit(radix)?;
        if u64::from(scale) * u64::from(radix) >= LIMB_BASE {
            magnitude.mul_add(scale, chunk);
            (chunk, scale) = (0, 1);
        }
        chunk = chunk * radix + digit;
        scale *= radix;
    }
    magnitude.mul_add(scale, chunk);
    Some(PyInt::new(negative, magnitude))
}

/// Why a scalar is not a Python int.
enum IntError {
    /// Not int syntax.
    Invalid,
    /// More decimal digits than Python converts.
    TooLong,
}

/// `SafeConstructor.construct_yaml_int`.
fn construct_int(text: &str) -> Result<PyInt, IntError> {
    construct_int_parts(text).unwrap_or(Err(IntError::Invalid))
}

/// [`construct_int`]: `None` for bad syntax, `Some(Err)` for a value too long to write.
fn construct_int_parts(text: &str) -> Option<Result<PyInt, IntError>> {
    let value = text.replace('_', "");
    let first = value.chars().next()?;
    let negative = first == '-';
    let rest = if first == '-' || first == '+' {
        value.get(1..)?
    } else {
        value.as_str()
    };
    let magnitude = if rest == "0" {
        BigUint::default()
    } else if let Some(binary) = rest.strip_prefix("0b") {
        py_int(binary, 2)?.signed_magnitude()?
    } else if let Some(hex) = rest.strip_prefix("0x") {
        py_int(hex, 16)?.signed_magnitude()?
    } else if rest.starts_with('0') {
        py_int(rest, 8)?.signed_magnitude()?
    } else if rest.contains(':') {
        let mut total = BigUint::default();
        for part in rest.split(':') {
            let part = py_int(part, 10)?.signed_magnitude()?;
            total.mul_add(60, 0);
            total.add(&part);
            // Each `:` multiplies by 60: stop before the number (and the time per part) grows.
            if total.decimal_digits() > MAX_INT_DIGITS {
                return Some(Err(IntError::TooLong));
            }
        }
        total
    } else {
        py_int(rest, 10)?.signed_magnitude()?
    };
    Some(Ok(PyInt::new(negative, magnitude)))
}

impl PyInt {
    /// The magnitude of a non-negative int; `None` for a negative one (Python would accept a
    /// second sign inside the digits, e.g. `!!int +-5`; we do not).
    fn signed_magnitude(self) -> Option<BigUint> {
        (!self.negative).then_some(self.magnitude)
    }
}

/// Python's `float(text)` for ASCII text.
fn py_float(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok()
}

/// `SafeConstructor.construct_yaml_float`.
fn construct_float(text: &str) -> Option<f64> {
    let value = text.replace('_', "").to_lowercase();
    let first = value.chars().next()?;
    let sign = if first == '-' { -1.0 } else { 1.0 };
    let rest = if first == '-' || first == '+' {
        value.get(1..)?
    } else {
        value.as_str()
    };
    if rest == ".inf" {
        Some(sign * f64::INFINITY)
    } else if rest == ".nan" {
        Some(f64::NAN)
    } else if rest.contains(':') {
        let mut total = 0.0f64;
        let mut base = 1.0f64;
        for part in rest.rsplit(':') {
            total += py_float(part)? * base;
            base *= 60.0;
        }
        Some(sign * total)
    } else {
        Some(sign * py_float(rest)?)
    }
}

/// A constructed Python scalar: what a scalar node (or a mapping key) becomes.
#[derive(Debug, Clone)]
enum PyScalar {
    None,
    Bool(bool),
    Int(PyInt),
    Float(f64),
    Str(String),
}

/// Python dict-key identity: `1`, `1.0` and `True` are the same key, as are `0`, `0.0`, `-0.0`
/// and `False`; PyYAML's `.nan` is one shared float object, hence one key.
#[derive(Debug, PartialEq, Eq, Hash)]
enum KeyId {
    None,
    Number(String),
    Float(u64),
    Nan,
    Str(String),
}

impl PyScalar {
    fn key_id(&self) -> KeyId {
        match self {
            Self::None => KeyId::None,
            Self::Bool(b) => KeyId::Number(if *b { "1" } else { "0" }.to_owned()),
            Self::Int(i) => KeyId::Number(i.to_decimal()),
            Self::Float(f) if f.is_nan() => KeyId::Nan,
            Self::Float(f) => match integral_float_decimal(*f) {
                Some(decimal) => KeyId::Number(decimal),
                None => KeyId::Float(f.to_bits()),
            },
            Self::Str(s) => KeyId::Str(s.clone()),
        }
    }

    /// The object key text `json.dumps` writes for this key.
    fn json_key(&self) -> String {
        match self {
            Self::None => "null".to_owned(),
            Self::Bool(b) => b.to_string(),
            Self::Int(i) => i.to_decimal(),
            Self::Float(f) if f.is_nan() => "NaN".to_owned(),
            Self::Float(f) if f.is_infinite() => {
                if *f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
            }
            Self::Float(f) => pyjson::float_repr(*f),
            Self::Str(s) => s.clone(),
        }
    }
}

/// The exact decimal value of an integral finite float (`None` if it has a fraction).
fn integral_float_decimal(f: f64) -> Option<String> {
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    if f.abs() < 9.0e18 {
        // Below 2^63: `as` converts an integral value exactly.
        return Some((f as i64).to_string());
    }
    // |f| = mantissa * 2^exponent, with exponent >= 10 for values this large.
    let bits = f.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mantissa = (bits & 0x000f_ffff_ffff_ffff) | 0x0010_0000_0000_0000;
    let mut magnitude = BigUint::from_u64(mantissa);
    for _ in 0..exponent.max(0) {
        magnitude.mul_add(2, 0);
    }
    Some(PyInt::new(f < 0.0, magnitude).to_decimal())
}

/// Builds JSON values from a composed document (PyYAML's `SafeConstructor`, then `json.dumps`).
struct Constructor<'b> {
    nodes: Vec<Node>,
    in_progress: Vec<bool>,
    budget: &'b mut Budget,
}

fn construct_document(document: Document, budget: &mut Budget) -> Result<Value, Error> {
    let mut constructor = Constructor {
        in_progress: vec![false; document.nodes.len()],
        nodes: document.nodes,
        budget,
    };
    constructor.value(document.root, 0)
}

impl Constructor<'_> {
    fn node(&self, id: usize) -> Result<&Node, Error> {
        self.nodes.get(id).ok_or_else(|| dangling(Mark::default()))
    }

    fn tick(&mut self, count: usize) -> Result<(), Error> {
        match self.budget.nodes.checked_sub(count) {
            Some(rest) => {
                self.budget.nodes = rest;
                Ok(())
            }
            None => Err(Error::TooManyNodes { limit: MAX_NODES }),
        }
    }

    /// Counts `count` bytes of constructed scalar text.
    fn spend_bytes(&mut self, count: usize) -> Result<(), Error> {
        match self.budget.bytes.checked_sub(count) {
            Some(rest) => {
                self.budget.bytes = rest;
                Ok(())
            }
            None => Err(Error::TooManyBytes {
                limit: MAX_ALIAS_BYTES,
            }),
        }
    }

    /// Counts one node, checks the depth, and returns the node's tag and mark.
    fn enter(&mut self, id: usize, depth: usize) -> Result<(NodeTag, Mark), Error> {
        self.tick(1)?;
        let node = self.node(id)?;
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                limit: MAX_DEPTH,
                mark: node.mark,
            });
        }
        Ok((node.tag.clone(), node.mark))
    }

    /// Runs `build` for collection node `id`, refusing to re-enter a node under construction.
    fn guarded(
        &mut self,
        id: usize,
        mark: Mark,
        build: impl FnOnce(&mut Self) -> Result<Value, Error>,
    ) -> Result<Value, Error> {
        match self.in_progress.get_mut(id) {
            Some(flag) if *flag => return Err(Error::RecursiveAlias { mark }),
            Some(flag) => *flag = true,
            None => return Err(dangling(mark)),
        }
        let result = build(self);
        if let Some(flag) = self.in_progress.get_mut(id) {
            *flag = false;
        }
        result
    }

    /// Constructs node `id` in value position.
    fn value(&mut self, id: usize, depth: usize) -> Result<Value, Error> {
        let (tag, mark) = self.enter(id, depth)?;
        match tag {
            NodeTag::Seq => self.guarded(id, mark, |c| c.sequence(id, mark, depth)),
            NodeTag::Map => self.guarded(id, mark, |c| c.mapping(id, mark, depth)),
            NodeTag::Omap | NodeTag::Pairs => self.guarded(id, mark, |c| c.pairs(id, mark, depth)),
            NodeTag::Timestamp => Err(Error::Timestamp {
                value: self.scalar_text(id, mark, depth)?,
                mark,
            }),
            NodeTag::Binary | NodeTag::Set => Err(Error::NotJsonSerializable {
                tag: tag.uri(),
                mark,
            }),
            NodeTag::Merge | NodeTag::Value | NodeTag::Other(_) => Err(Error::UnsupportedTag {
                tag: tag.uri(),
                mark,
            }),
            NodeTag::Null | NodeTag::Bool | NodeTag::Int | NodeTag::Float | NodeTag::Str => {
                match self.scalar(id, &tag, mark, depth)? {
                    PyScalar::None => Ok(Value::Null),
                    PyScalar::Bool(b) => Ok(Value::Bool(b)),
                    PyScalar::Int(i) => {
                        i.to_number()
                            .map(Value::Number)
                            .ok_or_else(|| Error::IntegerOutOfRange {
                                value: i.to_decimal(),
                                mark,
                            })
                    }
                    PyScalar::Float(f) => match Number::from_f64(f) {
                        Some(n) => Ok(Value::Number(n)),
                        None => Err(Error::NonFiniteFloat {
                            value: self.scalar_text(id, mark, depth).unwrap_or_default(),
                            mark,
                        }),
                    },
                    PyScalar::Str(s) => Ok(Value::String(s)),
                }
            }
        }
    }

    /// Constructs node `id` in mapping-key position.
    fn key(&mut self, id: usize, depth: usize) -> Result<PyScalar, Error> {
        let (tag, mark) = self.enter(id, depth)?;
        match tag {
            NodeTag::Seq | NodeTag::Map | NodeTag::Omap | NodeTag::Pairs | NodeTag::Set => {
                let kind = match tag {
                    NodeTag::Seq => "sequence".to_owned(),
                    NodeTag::Map => "mapping".to_owned(),
                    _ => tag.uri(),
                };
                Err(Error::UnhashableKey { kind, mark })
            }
            NodeTag::Timestamp => Err(Error::Timestamp {
                value: self.scalar_text(id, mark, depth)?,
                mark,
            }),
            NodeTag::Binary => Err(Error::NotJsonSerializable {
                tag: tag.uri(),
                mark,
            }),
            NodeTag::Merge | NodeTag::Value | NodeTag::Other(_) => Err(Error::UnsupportedTag {
                tag: tag.uri(),
                mark,
            }),
            NodeTag::Null | NodeTag::Bool | NodeTag::Int | NodeTag::Float | NodeTag::Str => {
                self.scalar(id, &tag, mark, depth)
            }
        }
    }

    /// `SafeConstructor.construct_scalar`: a scalar's text, or for a mapping the text of the value
    /// under its `=` key.
    fn scalar_text(&self, id: usize, mark: Mark, depth: usize) -> Result<String, Error> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                limit: MAX_DEPTH,
                mark,
            });
        }
        let node = self.node(id)?;
        match &node.body {
            Body::Scalar(text) => Ok(text.clone()),
            Body::Map(pairs) => {
                for &(key, value) in pairs {
                    if self.node(key)?.tag == NodeTag::Value {
                        return self.scalar_text(value, mark, depth + 1);
                    }
                }
                Err(Error::Construct {
                    message: "expected a scalar node, but found mapping".to_owned(),
                    mark: node.mark,
                })
            }
            Body::Seq(_) => Err(Error::Construct {
                message: "expected a scalar node, but found sequence".to_owned(),
                mark: node.mark,
            }),
        }
    }

    /// The scalar constructors of `SafeConstructor` (null, bool, int, float, str).
    fn scalar(
        &mut self,
        id: usize,
        tag: &NodeTag,
        mark: Mark,
        depth: usize,
    ) -> Result<PyScalar, Error> {
        let text = self.scalar_text(id, mark, depth)?;
        self.spend_bytes(text.len())?;
        let parsed = match tag {
            NodeTag::Null => Some(PyScalar::None),
            NodeTag::Bool => match text.to_lowercase().as_str() {
                "yes" | "true" | "on" => Some(PyScalar::Bool(true)),
                "no" | "false" | "off" => Some(PyScalar::Bool(false)),
                _ => None,
            },
            NodeTag::Int => match construct_int(&text) {
                Ok(int) => Some(PyScalar::Int(int)),
                Err(IntError::Invalid) => None,
                Err(IntError::TooLong) => {
                    return Err(Error::IntegerTooLong {
                        limit: MAX_INT_DIGITS,
                        mark,
                    });
                }
            },
            NodeTag::Float => construct_float(&text).map(PyScalar::Float),
            _ => return Ok(PyScalar::Str(text)),
        };
        parsed.ok_or_else(|| Error::InvalidScalar {
            tag: tag.uri(),
            value: text,
            mark,
        })
    }

    fn sequence(&mut self, id: usize, mark: Mark, depth: usize) -> Result<Value, Error> {
        let items = match &self.node(id)?.body {
            Body::Seq(items) => items.clone(),
            other => {
                return Err(Error::Construct {
                    message: format!("expected a sequence node, but found {}", other.kind()),
                    mark,
                });
            }
        };
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            values.push(self.value(item, depth + 1)?);
        }
        Ok(Value::Array(values))
    }

    /// `SafeConstructor.construct_yaml_omap`/`construct_yaml_pairs`: a list of `(key, value)`
    /// tuples, which `json.dumps` writes as two-element arrays.
    fn pairs(&mut self, id: usize, mark: Mark, depth: usize) -> Result<Value, Error> {
        let items = match &self.node(id)?.body {
            Body::Seq(items) => items.clone(),
            other => {
                return Err(Error::Construct {
                    message: format!("expected a sequence, but found {}", other.kind()),
                    mark,
                });
            }
        };
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            let node = self.node(item)?;
            let (key, value) = match &node.body {
                Body::Map(pairs) => match pairs.as_slice() {
                    [pair] => *pair,
                    _ => {
                        return Err(Error::Construct {
                            message: format!(
                                "expected a single mapping item, but found {} items",
                                pairs.len()
                            ),
                            mark: node.mark,
                        });
                    }
                },
                other => {
                    return Err(Error::Construct {
                        message: format!(
                            "expected a mapping of length 1, but found {}",
                            other.kind()
                        ),
                        mark: node.mark,
                    });
                }
            };
            self.tick(1)?;
            let key = self.value(key, depth + 2)?;
            let value = self.value(value, depth + 2)?;
            values.push(Value::Array(vec![key, value]));
        }
        Ok(Value::Array(values))
    }

    fn map_pairs(&self, id: usize) -> Result<&Vec<(usize, usize)>, Error> {
        let node = self.node(id)?;
        match &node.body {
            Body::Map(pairs) => Ok(pairs),
            _ => Err(dangling(node.mark)),
        }
    }

    fn map_pairs_mut(&mut self, id: usize) -> Result<&mut Vec<(usize, usize)>, Error> {
        match self.nodes.get_mut(id) {
            Some(Node {
                body: Body::Map(pairs),
                ..
            }) => Ok(pairs),
            Some(node) => Err(dangling(node.mark)),
            None => Err(dangling(Mark::default())),
        }
    }

    /// `SafeConstructor.flatten_mapping`: replaces the `<<` entries of mapping `id` by the entries
    /// of the merged mappings, placed first (so explicit keys win, and among merged mappings the
    /// earlier ones win), and turns `=` keys into plain strings. Mutates the shared node, as PyYAML
    /// does.
    fn flatten(&mut self, id: usize, depth: usize) -> Result<(), Error> {
        let mark = self.node(id)?.mark;
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                limit: MAX_DEPTH,
                mark,
            });
        }
        let mut merge: Vec<(usize, usize)> = Vec::new();
        let mut index = 0;
        while let Some(&(key, value)) = self.map_pairs(id)?.get(index) {
            match self.node(key)?.tag {
                NodeTag::Merge => {
                    self.map_pairs_mut(id)?.remove(index);
                    let value_node = self.node(value)?;
                    let value_mark = value_node.mark;
                    match &value_node.body {
                        Body::Map(_) => {
                            self.flatten(value, depth + 1)?;
                            let pairs = self.map_pairs(value)?.clone();
                            self.tick(pairs.len())?;
                            merge.extend(pairs);
                        }
                        Body::Seq(items) => {
                            let items = items.clone();
                            let mut submerge = Vec::with_capacity(items.len());
                            for item in items {
                                let item_node = self.node(item)?;
                                if !matches!(item_node.body, Body::Map(_)) {
                                    return Err(Error::Construct {
                                        message: format!(
                                            "expected a mapping for merging, but found {}",
                                            item_node.body.kind()
                                        ),
                                        mark: item_node.mark,
                                    });
                                }
                                self.flatten(item, depth + 1)?;
                                let pairs = self.map_pairs(item)?.clone();
                                self.tick(pairs.len())?;
                                submerge.push(pairs);
                            }
                            for pairs in submerge.into_iter().rev() {
                                merge.extend(pairs);
                            }
                        }
                        Body::Scalar(_) => {
                            return Err(Error::Construct {
                                message: "expected a mapping or list of mappings for merging, \
                                          but found scalar"
                                    .to_owned(),
                                mark: value_mark,
                            });
                        }
                    }
                }
                NodeTag::Value => {
                    if let Some(key_node) = self.nodes.get_mut(key) {
                        key_node.tag = NodeTag::Str;
                    }
                    index += 1;
                }
                _ => index += 1,
            }
        }
        if !merge.is_empty() {
            let own = std::mem::take(self.map_pairs_mut(id)?);
            merge.extend(own);
            *self.map_pairs_mut(id)? = merge;
        }
        Ok(())
    }

    /// `SafeConstructor.construct_mapping` into a Python dict, then `json.dumps`' key conversion.
    fn mapping(&mut self, id: usize, mark: Mark, depth: usize) -> Result<Value, Error> {
        if let Body::Scalar(_) | Body::Seq(_) = self.node(id)?.body {
            let kind = self.node(id)?.body.kind();
            return Err(Error::Construct {
                message: format!("expected a mapping node, but found {kind}"),
                mark,
            });
        }
        self.flatten(id, depth)?;
        let pairs = self.map_pairs(id)?.clone();
        // Python dict semantics: a repeated key keeps its first position and its first key object,
        // and takes the last value.
        let mut entries: Vec<(PyScalar, Mark, Value)> = Vec::with_capacity(pairs.len());
        let mut positions: HashMap<KeyId, usize> = HashMap::with_capacity(pairs.len());
        for (key_id, value_id) in pairs {
            let key = self.key(key_id, depth + 1)?;
            let key_mark = self.node(key_id)?.mark;
            let value = self.value(value_id, depth + 1)?;
            match positions.entry(key.key_id()) {
                Entry::Occupied(position) => {
                    if let Some(entry) = entries.get_mut(*position.get()) {
                        entry.2 = value;
                    }
                }
                Entry::Vacant(position) => {
                    position.insert(entries.len());
                    entries.push((key, key_mark, value));
                }
            }
        }
        let mut object = Map::with_capacity(entries.len());
        for (key, key_mark, value) in entries {
            let text = key.json_key();
            if object.contains_key(&text) {
                return Err(Error::DuplicateJsonKey {
                    key: text,
                    mark: key_mark,
                });
            }
            object.insert(text, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests;
