//! The one place the workspace touches a YAML crate.
//!
//! `serde_yaml` is archived; we use `serde-saphyr` (maintained, panic-free, no `unsafe` C parser) for
//! typed (de)serialisation, and its event parser `granit-parser` for the PyYAML-compatible loader.
//!
//! Two ways to read YAML live here:
//!
//! * [`from_str`] / [`to_string`]: typed serde (de)serialisation, YAML 1.2 core schema.
//! * [`load_yaml11`] / [`load_all_yaml11`]: untyped loading that reproduces PyYAML 6's
//!   `yaml.safe_load` / `yaml.safe_load_all` (YAML 1.1 implicit resolution, merge keys, anchors),
//!   returning the JSON that Python's `json.dumps` would produce from the loaded object. Use these
//!   where a Python charm library parses YAML with PyYAML and forwards the result as JSON.
//!
//! # Where the PyYAML-compatible loader diverges from PyYAML + `json.dumps`
//!
//! The loader returns an error instead of a value whenever Python would either fail or produce
//! something that is not JSON:
//!
//! * timestamps (`2024-01-01`, `!!timestamp`): PyYAML builds a `date`/`datetime` and `json.dumps`
//!   raises `TypeError` → [`YamlError::Timestamp`];
//! * `.inf`, `-.inf`, `.nan` and float literals that overflow (`1.0e+400`) as values: `json.dumps`
//!   writes `Infinity`/`NaN`, which is not JSON → [`YamlError::NonFiniteFloat`] (as mapping keys
//!   they are fine: `json.dumps` writes the key strings `"Infinity"`, `"-Infinity"`, `"NaN"`, and
//!   so does this loader);
//! * integers outside `i64`/`u64` as values: Python has arbitrary-precision integers, a
//!   `serde_json::Number` (without `arbitrary_precision`) does not → [`YamlError::IntegerOutOfRange`]
//!   (as keys they are fine: the key is the exact decimal text);
//! * `!!binary`, `!!set`: not JSON serialisable → [`YamlError::NotJsonSerializable`];
//! * two keys of one mapping that are different Python objects but the same JSON text (`1` and
//!   `"1"`): `json.dumps` writes the key twice, a `serde_json::Map` cannot →
//!   [`YamlError::DuplicateJsonKey`];
//! * circular structures (`&a [*a]`): `json.dumps` raises `ValueError` → [`YamlError::RecursiveAlias`];
//! * resource caps PyYAML does not have: at most [`YAML11_MAX_NODES`] nodes and
//!   [`YAML11_MAX_ALIAS_BYTES`] bytes of scalar text added by aliases and merge keys (alias and
//!   merge bombs, "billion laughs" with long strings), and [`YAML11_MAX_DEPTH`] nesting levels;
//! * sexagesimal integers (`1:2:3`, base 60) whose value has more than 4300 decimal digits:
//!   Python builds the int, then `json.dumps` refuses to write it (`sys.int_info`'s string
//!   conversion limit) → [`YamlError::IntegerTooLong`]. The loader stops as soon as the value
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
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Number, Value};

use crate::pyjson;

/// A YAML document that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// The text is not valid YAML, or does not fit the target type.
    #[error("invalid YAML: {0}")]
    Parse(String),
    /// The value could not be written as YAML.
    #[error("cannot write YAML: {0}")]
    Write(String),
    /// The text is not valid YAML (PyYAML-compatible loader).
    #[error("invalid YAML at {mark}: {message}")]
    Syntax {
        /// What the parser found wrong.
        message: String,
        /// Where.
        mark: YamlMark,
    },
    /// An anchor name defined twice in one document (PyYAML's composer refuses this).
    #[error("found duplicate anchor {name:?} at {mark}")]
    DuplicateAnchor {
        /// The anchor name, without `&`.
        name: String,
        /// Where the second definition is.
        mark: YamlMark,
    },
    /// [`load_yaml11`] was given a stream of more than one document.
    #[error("expected a single document in the stream, but found another document at {mark}")]
    MultipleDocuments {
        /// Where the second document starts.
        mark: YamlMark,
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
        mark: YamlMark,
    },
    /// An integer value outside the `i64`/`u64` range of a JSON number here.
    #[error("integer {value} at {mark} does not fit in a 64-bit JSON number")]
    IntegerOutOfRange {
        /// The integer in decimal.
        value: String,
        /// Where.
        mark: YamlMark,
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
        mark: YamlMark,
    },
    /// A scalar whose text does not fit its (explicit) tag, e.g. `!!int abc`.
    #[error("cannot construct {tag} from {value:?} at {mark}")]
    InvalidScalar {
        /// The tag URI.
        tag: String,
        /// The scalar text.
        value: String,
        /// Where.
        mark: YamlMark,
    },
    /// A tag PyYAML's SafeLoader has no constructor for, e.g. `!custom` (or `<<` outside a key).
    #[error("could not determine a constructor for the tag {tag:?} at {mark}")]
    UnsupportedTag {
        /// The tag URI.
        tag: String,
        /// Where.
        mark: YamlMark,
    },
    /// A value PyYAML loads but `json.dumps` cannot encode (`!!binary` bytes, `!!set`).
    #[error("value tagged {tag} at {mark} is not JSON serializable")]
    NotJsonSerializable {
        /// The tag URI.
        tag: String,
        /// Where.
        mark: YamlMark,
    },
    /// A node of the wrong kind for its tag or position (`!!map` on a scalar, merging a scalar).
    #[error("cannot construct node at {mark}: {message}")]
    Construct {
        /// What was expected and what was found.
        message: String,
        /// Where.
        mark: YamlMark,
    },
    /// A mapping key that is a sequence or mapping (unhashable in Python).
    #[error("mapping key at {mark} is a {kind}; PyYAML cannot use it as a key (unhashable)")]
    UnhashableKey {
        /// `sequence`, `mapping` or the tag that made it a collection.
        kind: String,
        /// Where the key is.
        mark: YamlMark,
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
        mark: YamlMark,
    },
    /// An alias that makes a collection contain itself.
    #[error(
        "the node anchored at {mark} contains an alias to itself; JSON cannot represent a circular structure"
    )]
    RecursiveAlias {
        /// Where the anchored node starts.
        mark: YamlMark,
    },
    /// Aliases and merge keys expand the document by more nodes than allowed.
    #[error("YAML expands by more than {limit} nodes through aliases or merge keys (alias bomb?)")]
    TooManyNodes {
        /// The cap, [`YAML11_MAX_NODES`].
        limit: usize,
    },
    /// Aliases and merge keys expand the document by more scalar text than allowed.
    #[error(
        "YAML expands by more than {limit} bytes of text through aliases or merge keys (alias bomb?)"
    )]
    TooManyBytes {
        /// The cap, [`YAML11_MAX_ALIAS_BYTES`].
        limit: usize,
    },
    /// An integer whose decimal text would be longer than Python converts (4300 digits).
    #[error("integer at {mark} has more than {limit} decimal digits")]
    IntegerTooLong {
        /// The cap, Python's `sys.int_info.default_max_str_digits`.
        limit: usize,
        /// Where.
        mark: YamlMark,
    },
    /// The document nests deeper than allowed.
    #[error("YAML nests deeper than {limit} levels at {mark}")]
    TooDeep {
        /// The cap, [`YAML11_MAX_DEPTH`].
        limit: usize,
        /// Where.
        mark: YamlMark,
    },
}

/// Parses one YAML document into `T` (YAML 1.2 core schema).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str(text).map_err(|e| YamlError::Parse(e.to_string()))
}

/// Writes `value` as a YAML document.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    serde_saphyr::to_string(value).map_err(|e| YamlError::Write(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// PyYAML-compatible loader: YAML 1.1 resolution as PyYAML 6's SafeLoader does it, output as the
// JSON `json.dumps` would write for the loaded Python object.
// ---------------------------------------------------------------------------------------------

/// Most nodes that aliases and merge keys may add, beyond the nodes written in the text, in one
/// [`load_yaml11`]/[`load_all_yaml11`] call: a guard against alias ("billion laughs") and merge
/// bombs. A document without aliases always fits, whatever its size.
pub const YAML11_MAX_NODES: usize = 1_000_000;

/// Most bytes of scalar text that aliases and merge keys may add, beyond the text itself, in one
/// [`load_yaml11`]/[`load_all_yaml11`] call: with [`YAML11_MAX_NODES`] alone, a 1 MB string
/// aliased a million times would still ask for a terabyte. A document without aliases always
/// fits, whatever its size.
pub const YAML11_MAX_ALIAS_BYTES: usize = 16 * 1024 * 1024;

/// Deepest nesting [`load_yaml11`]/[`load_all_yaml11`] construct (PyYAML itself exceeds Python's
/// recursion limit somewhere between 400 and 500 nested collections).
pub const YAML11_MAX_DEPTH: usize = 512;

/// Python refuses to convert integers of more than this many digits (`sys.int_info`
/// `default_max_str_digits`), so PyYAML cannot load them either.
const MAX_INT_DIGITS: usize = 4300;

/// A position in YAML source text: 1-based line and 1-based column (counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct YamlMark {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number, starting at 1, counted in characters.
    pub column: usize,
}

impl fmt::Display for YamlMark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

impl YamlMark {
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
pub fn load_all_yaml11(text: &str) -> Result<Vec<Value>, YamlError> {
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
/// (PyYAML returns None for empty input); more than one -> [`YamlError::MultipleDocuments`]
/// (PyYAML: "expected a single document in the stream").
pub fn load_yaml11(text: &str) -> Result<Value, YamlError> {
    let mut composer = Composer::new(text);
    if composer.next_document_start()?.is_none() {
        return Ok(Value::Null);
    }
    let document = composer.compose_document()?;
    // Like PyYAML's `get_single_node`: the check comes before the document is constructed.
    if let Some(mark) = composer.next_document_start()? {
        return Err(YamlError::MultipleDocuments { mark });
    }
    let mut budget = Budget::new(text);
    budget.nodes = budget.nodes.saturating_add(document.nodes.len());
    construct_document(document, &mut budget)
}

/// What one load may still construct: the guard against alias and merge bombs.
struct Budget {
    /// Nodes: those of the text plus [`YAML11_MAX_NODES`].
    nodes: usize,
    /// Bytes of scalar text: twice the text's length (an escape such as `\L` decodes to more
    /// bytes than it takes) plus [`YAML11_MAX_ALIAS_BYTES`].
    bytes: usize,
}

impl Budget {
    fn new(text: &str) -> Self {
        Budget {
            nodes: YAML11_MAX_NODES,
            bytes: YAML11_MAX_ALIAS_BYTES.saturating_add(text.len().saturating_mul(2)),
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

/// PyYAML's implicit resolvers (`yaml/resolver.py`), compiled once. A pattern is `None` only if
/// it failed to compile, which `tests::resolver_patterns_compile` rules out.
struct Resolvers {
    bool_: Option<Regex>,
    float: Option<Regex>,
    int: Option<Regex>,
    null: Option<Regex>,
    timestamp: Option<Regex>,
}

static RESOLVERS: LazyLock<Resolvers> = LazyLock::new(|| Resolvers {
    bool_: Regex::new(
        r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
    )
    .ok(),
    float: Regex::new(
        r"(?x)^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$",
    )
    .ok(),
    int: Regex::new(
        r"(?x)^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+
        |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    )
    .ok(),
    null: Regex::new(r"^(?:~|null|Null|NULL|)$").ok(),
    timestamp: Regex::new(
        r"(?x)^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[\ \t]+)[0-9][0-9]?
        :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
    )
    .ok(),
});

fn regex_matches(re: Option<&Regex>, value: &str) -> bool {
    re.is_some_and(|re| re.is_match(value))
}

/// The tag PyYAML's resolver gives an implicitly typed scalar: the resolvers registered for the
/// scalar's first character, tried in the order PyYAML registers them (bool, float, int, merge,
/// null, timestamp, value).
fn resolve_implicit(value: &str) -> NodeTag {
    let r = &*RESOLVERS;
    let first = value.chars().next();
    let starts_with = |set: &str| first.is_some_and(|c| set.contains(c));
    if starts_with("yYnNtTfFoO") && regex_matches(r.bool_.as_ref(), value) {
        NodeTag::Bool
    } else if starts_with("-+0123456789.") && regex_matches(r.float.as_ref(), value) {
        NodeTag::Float
    } else if starts_with("-+0123456789") && regex_matches(r.int.as_ref(), value) {
        NodeTag::Int
    } else if value == "<<" {
        NodeTag::Merge
    } else if (first.is_none() || starts_with("~nN")) && regex_matches(r.null.as_ref(), value) {
        NodeTag::Null
    } else if starts_with("0123456789") && regex_matches(r.timestamp.as_ref(), value) {
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
    mark: YamlMark,
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

fn syntax_error(error: &ScanError) -> YamlError {
    let mut message = error.info();
    if message.is_empty() {
        message = format!("{:?}", error.kind());
    }
    YamlError::Syntax {
        message,
        mark: YamlMark::from_marker(error.marker()),
    }
}

fn dangling(mark: YamlMark) -> YamlError {
    YamlError::Construct {
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
            flow_nesting_limit: YAML11_MAX_DEPTH,
            block_nesting_limit: YAML11_MAX_DEPTH,
        };
        Self {
            parser: Parser::new_from_str_with_options(text, options),
        }
    }

    fn next_event(&mut self) -> Result<Option<(Event<'a>, Span)>, YamlError> {
        match self.parser.next() {
            None => Ok(None),
            Some(Ok(event)) => Ok(Some(event)),
            Some(Err(error)) => Err(syntax_error(&error)),
        }
    }

    /// Reads up to the next document start and returns its position; `None` at end of stream.
    fn next_document_start(&mut self) -> Result<Option<YamlMark>, YamlError> {
        while let Some((event, span)) = self.next_event()? {
            match event {
                Event::DocumentStart(..) => return Ok(Some(YamlMark::from_marker(&span.start))),
                Event::StreamEnd => return Ok(None),
                _ => {}
            }
        }
        Ok(None)
    }

    /// Composes the document whose `DocumentStart` event was just read.
    fn compose_document(&mut self) -> Result<Document, YamlError> {
        let mut nodes: Vec<Node> = Vec::new();
        let mut anchors: HashMap<usize, usize> = HashMap::new();
        let mut anchor_names: HashSet<String> = HashSet::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<usize> = None;
        let mut last_mark = YamlMark::default();
        while let Some((event, span)) = self.next_event()? {
            // PyYAML reports a node at its properties; the tag is the one we know the position of.
            let mark = YamlMark::from_marker(span.tag_start.as_ref().unwrap_or(&span.start));
            last_mark = mark;
            let complete = match event {
                Event::DocumentEnd | Event::StreamEnd => break,
                Event::Anchor(_, name) => {
                    if !anchor_names.insert(name.to_string()) {
                        return Err(YamlError::DuplicateAnchor {
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
                        return Err(YamlError::Syntax {
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
    mark: YamlMark,
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

fn construct_document(document: Document, budget: &mut Budget) -> Result<Value, YamlError> {
    let mut constructor = Constructor {
        in_progress: vec![false; document.nodes.len()],
        nodes: document.nodes,
        budget,
    };
    constructor.value(document.root, 0)
}

impl Constructor<'_> {
    fn node(&self, id: usize) -> Result<&Node, YamlError> {
        self.nodes
            .get(id)
            .ok_or_else(|| dangling(YamlMark::default()))
    }

    fn tick(&mut self, count: usize) -> Result<(), YamlError> {
        match self.budget.nodes.checked_sub(count) {
            Some(rest) => {
                self.budget.nodes = rest;
                Ok(())
            }
            None => Err(YamlError::TooManyNodes {
                limit: YAML11_MAX_NODES,
            }),
        }
    }

    /// Counts `count` bytes of constructed scalar text.
    fn spend_bytes(&mut self, count: usize) -> Result<(), YamlError> {
        match self.budget.bytes.checked_sub(count) {
            Some(rest) => {
                self.budget.bytes = rest;
                Ok(())
            }
            None => Err(YamlError::TooManyBytes {
                limit: YAML11_MAX_ALIAS_BYTES,
            }),
        }
    }

    /// Counts one node, checks the depth, and returns the node's tag and mark.
    fn enter(&mut self, id: usize, depth: usize) -> Result<(NodeTag, YamlMark), YamlError> {
        self.tick(1)?;
        let node = self.node(id)?;
        if depth > YAML11_MAX_DEPTH {
            return Err(YamlError::TooDeep {
                limit: YAML11_MAX_DEPTH,
                mark: node.mark,
            });
        }
        Ok((node.tag.clone(), node.mark))
    }

    /// Runs `build` for collection node `id`, refusing to re-enter a node under construction.
    fn guarded(
        &mut self,
        id: usize,
        mark: YamlMark,
        build: impl FnOnce(&mut Self) -> Result<Value, YamlError>,
    ) -> Result<Value, YamlError> {
        match self.in_progress.get_mut(id) {
            Some(flag) if *flag => return Err(YamlError::RecursiveAlias { mark }),
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
    fn value(&mut self, id: usize, depth: usize) -> Result<Value, YamlError> {
        let (tag, mark) = self.enter(id, depth)?;
        match tag {
            NodeTag::Seq => self.guarded(id, mark, |c| c.sequence(id, mark, depth)),
            NodeTag::Map => self.guarded(id, mark, |c| c.mapping(id, mark, depth)),
            NodeTag::Omap | NodeTag::Pairs => self.guarded(id, mark, |c| c.pairs(id, mark, depth)),
            NodeTag::Timestamp => Err(YamlError::Timestamp {
                value: self.scalar_text(id, mark, depth)?,
                mark,
            }),
            NodeTag::Binary | NodeTag::Set => Err(YamlError::NotJsonSerializable {
                tag: tag.uri(),
                mark,
            }),
            NodeTag::Merge | NodeTag::Value | NodeTag::Other(_) => Err(YamlError::UnsupportedTag {
                tag: tag.uri(),
                mark,
            }),
            NodeTag::Null | NodeTag::Bool | NodeTag::Int | NodeTag::Float | NodeTag::Str => {
                match self.scalar(id, &tag, mark, depth)? {
                    PyScalar::None => Ok(Value::Null),
                    PyScalar::Bool(b) => Ok(Value::Bool(b)),
                    PyScalar::Int(i) => i.to_number().map(Value::Number).ok_or_else(|| {
                        YamlError::IntegerOutOfRange {
                            value: i.to_decimal(),
                            mark,
                        }
                    }),
                    PyScalar::Float(f) => match Number::from_f64(f) {
                        Some(n) => Ok(Value::Number(n)),
                        None => Err(YamlError::NonFiniteFloat {
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
    fn key(&mut self, id: usize, depth: usize) -> Result<PyScalar, YamlError> {
        let (tag, mark) = self.enter(id, depth)?;
        match tag {
            NodeTag::Seq | NodeTag::Map | NodeTag::Omap | NodeTag::Pairs | NodeTag::Set => {
                let kind = match tag {
                    NodeTag::Seq => "sequence".to_owned(),
                    NodeTag::Map => "mapping".to_owned(),
                    _ => tag.uri(),
                };
                Err(YamlError::UnhashableKey { kind, mark })
            }
            NodeTag::Timestamp => Err(YamlError::Timestamp {
                value: self.scalar_text(id, mark, depth)?,
                mark,
            }),
            NodeTag::Binary => Err(YamlError::NotJsonSerializable {
                tag: tag.uri(),
                mark,
            }),
            NodeTag::Merge | NodeTag::Value | NodeTag::Other(_) => Err(YamlError::UnsupportedTag {
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
    fn scalar_text(&self, id: usize, mark: YamlMark, depth: usize) -> Result<String, YamlError> {
        if depth > YAML11_MAX_DEPTH {
            return Err(YamlError::TooDeep {
                limit: YAML11_MAX_DEPTH,
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
                Err(YamlError::Construct {
                    message: "expected a scalar node, but found mapping".to_owned(),
                    mark: node.mark,
                })
            }
            Body::Seq(_) => Err(YamlError::Construct {
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
        mark: YamlMark,
        depth: usize,
    ) -> Result<PyScalar, YamlError> {
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
                    return Err(YamlError::IntegerTooLong {
                        limit: MAX_INT_DIGITS,
                        mark,
                    });
                }
            },
            NodeTag::Float => construct_float(&text).map(PyScalar::Float),
            _ => return Ok(PyScalar::Str(text)),
        };
        parsed.ok_or_else(|| YamlError::InvalidScalar {
            tag: tag.uri(),
            value: text,
            mark,
        })
    }

    fn sequence(&mut self, id: usize, mark: YamlMark, depth: usize) -> Result<Value, YamlError> {
        let items = match &self.node(id)?.body {
            Body::Seq(items) => items.clone(),
            other => {
                return Err(YamlError::Construct {
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
    fn pairs(&mut self, id: usize, mark: YamlMark, depth: usize) -> Result<Value, YamlError> {
        let items = match &self.node(id)?.body {
            Body::Seq(items) => items.clone(),
            other => {
                return Err(YamlError::Construct {
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
                        return Err(YamlError::Construct {
                            message: format!(
                                "expected a single mapping item, but found {} items",
                                pairs.len()
                            ),
                            mark: node.mark,
                        });
                    }
                },
                other => {
                    return Err(YamlError::Construct {
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

    fn map_pairs(&self, id: usize) -> Result<&Vec<(usize, usize)>, YamlError> {
        let node = self.node(id)?;
        match &node.body {
            Body::Map(pairs) => Ok(pairs),
            _ => Err(dangling(node.mark)),
        }
    }

    fn map_pairs_mut(&mut self, id: usize) -> Result<&mut Vec<(usize, usize)>, YamlError> {
        match self.nodes.get_mut(id) {
            Some(Node {
                body: Body::Map(pairs),
                ..
            }) => Ok(pairs),
            Some(node) => Err(dangling(node.mark)),
            None => Err(dangling(YamlMark::default())),
        }
    }

    /// `SafeConstructor.flatten_mapping`: replaces the `<<` entries of mapping `id` by the entries
    /// of the merged mappings, placed first (so explicit keys win, and among merged mappings the
    /// earlier ones win), and turns `=` keys into plain strings. Mutates the shared node, as PyYAML
    /// does.
    fn flatten(&mut self, id: usize, depth: usize) -> Result<(), YamlError> {
        let mark = self.node(id)?.mark;
        if depth > YAML11_MAX_DEPTH {
            return Err(YamlError::TooDeep {
                limit: YAML11_MAX_DEPTH,
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
                                    return Err(YamlError::Construct {
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
                            return Err(YamlError::Construct {
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
    fn mapping(&mut self, id: usize, mark: YamlMark, depth: usize) -> Result<Value, YamlError> {
        if let Body::Scalar(_) | Body::Seq(_) = self.node(id)?.body {
            let kind = self.node(id)?.body.kind();
            return Err(YamlError::Construct {
                message: format!("expected a mapping node, but found {kind}"),
                mark,
            });
        }
        self.flatten(id, depth)?;
        let pairs = self.map_pairs(id)?.clone();
        // Python dict semantics: a repeated key keeps its first position and its first key object,
        // and takes the last value.
        let mut entries: Vec<(PyScalar, YamlMark, Value)> = Vec::with_capacity(pairs.len());
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
                return Err(YamlError::DuplicateJsonKey {
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
mod tests {
    //! Unless noted, each expectation was checked against PyYAML 6.0.3 `yaml.safe_load` followed by
    //! Python 3.11 `json.dumps`.

    use super::*;
    use serde_json::json;

    fn load(text: &str) -> Value {
        match load_yaml11(text) {
            Ok(value) => value,
            Err(error) => panic!("{text:?} failed to load: {error}"),
        }
    }

    fn load_err(text: &str) -> YamlError {
        match load_yaml11(text) {
            Ok(value) => panic!("{text:?} loaded as {value} but should fail"),
            Err(error) => error,
        }
    }

    /// The `json.dumps` text of the loaded document.
    fn dumped(text: &str) -> String {
        pyjson::dumps(&load(text))
    }

    fn mark(line: usize, column: usize) -> YamlMark {
        YamlMark { line, column }
    }

    #[test]
    fn resolver_patterns_compile() {
        let r = &*RESOLVERS;
        assert!(r.bool_.is_some());
        assert!(r.float.is_some());
        assert!(r.int.is_some());
        assert!(r.null.is_some());
        assert!(r.timestamp.is_some());
    }

    #[test]
    fn booleans_are_yaml_1_1() {
        for text in [
            "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
        ] {
            assert_eq!(load(text), json!(true), "{text}");
        }
        for text in [
            "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
        ] {
            assert_eq!(load(text), json!(false), "{text}");
        }
        // Not in PyYAML's regex: plain strings.
        for text in ["y", "Y", "n", "N", "yEs", "tRue", "oN", "enabled"] {
            assert_eq!(load(text), json!(text), "{text}");
        }
        assert_eq!(load("enabled: off"), json!({"enabled": false}));
    }

    #[test]
    fn only_plain_scalars_are_resolved() {
        assert_eq!(load("'yes'"), json!("yes"));
        assert_eq!(load("\"yes\""), json!("yes"));
        assert_eq!(
            load("a: '0755'\nb: \"1.0\"\nc: '~'"),
            json!({"a": "0755", "b": "1.0", "c": "~"})
        );
        assert_eq!(load("a: |\n  yes\n"), json!({"a": "yes\n"}));
        assert_eq!(load("a: >-\n  123\n"), json!({"a": "123"}));
        assert_eq!(
            load("ports:\n- 80\n- '443'\n- \"9000\""),
            json!({"ports": [80, "443", "9000"]})
        );
    }

    #[test]
    fn nulls() {
        for text in [
            "~",
            "null",
            "Null",
            "NULL",
            "",
            "# only a comment\n",
            "---\n",
        ] {
            assert_eq!(load(text), Value::Null, "{text:?}");
        }
        assert_eq!(load("nULL"), json!("nULL"));
        assert_eq!(load("~a"), json!("~a"));
        assert_eq!(
            load("a: ~\nb: null\nc:"),
            json!({"a": null, "b": null, "c": null})
        );
        assert_eq!(load("key:"), json!({"key": null}));
        assert_eq!(
            load("a:\n  - b\n  -\n  - c"),
            json!({"a": ["b", null, "c"]})
        );
        assert_eq!(load("{? a : 1, ? b}"), json!({"a": 1, "b": null}));
    }

    #[test]
    fn integers() {
        let cases = [
            ("0", json!(0)),
            ("00", json!(0)),
            ("-0", json!(0)),
            ("+0", json!(0)),
            ("0755", json!(493)),
            ("010", json!(8)),
            ("0_7", json!(7)),
            ("07_7", json!(63)),
            ("-010", json!(-8)),
            ("+017", json!(15)),
            ("0b1010", json!(10)),
            ("-0b11", json!(-3)),
            ("+0b1", json!(1)),
            ("0x1F", json!(31)),
            ("-0x1F", json!(-31)),
            ("0xff_ff", json!(65535)),
            ("1_000", json!(1000)),
            ("1__", json!(1)),
            ("+12", json!(12)),
            ("12:30", json!(750)),
            ("20:00", json!(1200)),
            ("1:5", json!(65)),
            ("-1:30", json!(-90)),
            ("1_0:30", json!(630)),
            ("190:20:30", json!(685230)),
            ("1:2:3:4", json!(223384)),
            ("9223372036854775807", json!(9223372036854775807_i64)),
            ("-9223372036854775808", json!(i64::MIN)),
            ("9223372036854775808", json!(9223372036854775808_u64)),
            ("18446744073709551615", json!(u64::MAX)),
        ];
        for (text, expected) in cases {
            assert_eq!(load(text), expected, "{text}");
        }
        assert_eq!(dumped("mode: 0644"), r#"{"mode": 420}"#);
    }

    #[test]
    fn integer_look_alikes_are_strings() {
        // YAML 1.1 has no `0o`; `0X` is not hex; 8 and 9 are not octal digits; sexagesimal parts
        // are 0..59 and the first part cannot start with 0.
        for text in [
            "0o755", "0X1F", "08", "0_8", "09", "0b", "0x", "0b2", "0x1G", "_1", "1:60", "1:75",
            "0:30", "0:59", "8080:80", "1::30", ":30", "1-2", "-1-", "+", "0x-1", "0b1:1",
        ] {
            assert_eq!(load(text), json!(text), "{text}");
        }
    }

    #[test]
    fn integers_that_fail_like_python() {
        // Matched by the regex, then rejected by Python's int(): ValueError in PyYAML.
        for text in ["0b_", "0x_"] {
            assert!(
                matches!(load_err(text), YamlError::InvalidScalar { ref value, .. } if value == text),
                "{text}"
            );
        }
    }

    #[test]
    fn integers_beyond_64_bits_are_errors() {
        // PyYAML: arbitrary-precision ints, which json.dumps writes as digits; we refuse them.
        match load_err("x: 123456789012345678901234567890") {
            YamlError::IntegerOutOfRange { value, mark: m } => {
                assert_eq!(value, "123456789012345678901234567890");
                assert_eq!(m, mark(1, 4));
            }
            other => panic!("unexpected {other}"),
        }
        for (text, decimal) in [
            ("18446744073709551616", "18446744073709551616"),
            ("-9223372036854775809", "-9223372036854775809"),
            ("0x1_0000_0000_0000_0000", "18446744073709551616"),
        ] {
            match load_err(text) {
                YamlError::IntegerOutOfRange { value, .. } => assert_eq!(value, decimal),
                other => panic!("unexpected {other}"),
            }
        }
        let digits = "1".repeat(MAX_INT_DIGITS + 1);
        assert!(matches!(load_err(&digits), YamlError::InvalidScalar { .. }));
    }

    #[test]
    fn floats_need_a_dot_and_a_signed_exponent() {
        let cases = [
            ("1.0", "1.0"),
            ("1.", "1.0"),
            ("3.", "3.0"),
            (".5", "0.5"),
            ("-1.5", "-1.5"),
            ("-0.0", "-0.0"),
            ("1_0.5", "10.5"),
            ("-1_2.5_0", "-12.5"),
            ("1.__", "1.0"),
            ("1.0e+3", "1000.0"),
            ("1.5e+3", "1500.0"),
            ("1.e+3", "1000.0"),
            ("1.0E-3", "0.001"),
            ("0.1e+1", "1.0"),
            ("00.5", "0.5"),
            ("6.8523015e+5", "685230.15"),
            ("685.230_15e+03", "685230.15"),
            ("190:20:30.15", "685230.15"),
            ("1:30.5", "90.5"),
            ("-1:30.5", "-90.5"),
            ("1:30.", "90.0"),
            ("0.1", "0.1"),
            ("1.10", "1.1"),
            ("0.00001", "1e-05"),
            ("10000000000000000.0", "1e+16"),
        ];
        for (text, expected) in cases {
            assert_eq!(pyjson::dumps(&load(text)), expected, "{text}");
        }
        for text in [
            "1e3", "1.5e3", "1.0e3", "1e16", "-.5", "+.5", "._5", ".", "..", ".e+3", "1.0e+",
            "1.0e+3.0", "1.10.1",
        ] {
            assert_eq!(load(text), json!(text), "{text}");
        }
    }

    #[test]
    fn float_one_point_zero_stays_a_float() {
        let value = load("1.0");
        assert!(value.is_f64());
        assert_eq!(serde_json::to_string(&value).ok().as_deref(), Some("1.0"));
        assert_eq!(pyjson::dumps(&value), "1.0");
    }

    #[test]
    fn non_finite_floats_are_errors() {
        // json.dumps would write Infinity/-Infinity/NaN, which is not JSON.
        for text in [
            ".inf",
            "-.inf",
            "+.Inf",
            ".INF",
            ".nan",
            ".NaN",
            "1.0e+400",
            "!!float -.inf",
        ] {
            assert!(
                matches!(load_err(text), YamlError::NonFiniteFloat { .. }),
                "{text}"
            );
        }
        match load_err("x: .Inf") {
            YamlError::NonFiniteFloat { value, mark: m } => {
                assert_eq!(value, ".Inf");
                assert_eq!(m, mark(1, 4));
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn timestamps_are_errors() {
        for text in [
            "2024-01-01",
            "2002-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10 -5",
            "2024-01-01T00:00:00Z",
            "2024-01-01t1:00:00",
            "2024-13-45",
        ] {
            match load_err(text) {
                YamlError::Timestamp { value, mark: m } => {
                    assert_eq!(value, text);
                    assert_eq!(m, mark(1, 1));
                }
                other => panic!("{text}: unexpected {other}"),
            }
        }
        let error = load_err("spec:\n  date: 2024-01-01\n");
        assert!(
            matches!(error, YamlError::Timestamp { ref value, mark: m } if value == "2024-01-01" && m == mark(2, 9))
        );
        assert!(
            error
                .to_string()
                .contains("\"2024-01-01\" at line 2, column 9"),
            "{error}"
        );
        assert!(matches!(
            load_err("2024-01-01: x"),
            YamlError::Timestamp { .. }
        ));
        assert!(matches!(
            load_err("a: !!timestamp '2024-01-01'"),
            YamlError::Timestamp { .. }
        ));
        // Not timestamps.
        for text in ["2024-1-1", "2024-01-01x", "2024-01-011"] {
            assert_eq!(load(text), json!(text), "{text}");
        }
        assert_eq!(load("'2024-01-01'"), json!("2024-01-01"));
    }

    #[test]
    fn explicit_tags() {
        assert_eq!(load("!!str 123"), json!("123"));
        assert_eq!(load("!!str"), json!(""));
        assert_eq!(load("!!int '42'"), json!(42));
        assert_eq!(load("!!int 0o17"), json!(15));
        assert_eq!(pyjson::dumps(&load("!!float '1'")), "1.0");
        assert_eq!(pyjson::dumps(&load("!!float 1e3")), "1000.0");
        assert_eq!(load("!!bool 'on'"), json!(true));
        assert_eq!(load("!!null 'x'"), Value::Null);
        assert_eq!(
            load("a: !!str\nb: !!null\nc: !!str ~"),
            json!({"a": "", "b": null, "c": "~"})
        );
        assert_eq!(
            load("a: !!map {b: 1}\nc: !!seq [d]"),
            json!({"a": {"b": 1}, "c": ["d"]})
        );
        assert_eq!(load("a: !<tag:yaml.org,2002:int> '7'"), json!({"a": 7}));
        assert_eq!(
            load("%TAG !y! tag:yaml.org,2002:\n---\na: !y!int '7'"),
            json!({"a": 7})
        );
        assert_eq!(load("!!str {=: foo}"), json!("foo"));
        assert_eq!(load("- !!int {=: 5}"), json!([5]));
        assert_eq!(
            pyjson::dumps(&load("a: !!float 1\nc: !!int '-0x10'\nd: !!int 0b_1")),
            r#"{"a": 1.0, "c": -16, "d": 1}"#
        );
    }

    #[test]
    fn bad_explicit_tags() {
        let error = load_err("!!int 1.5");
        assert!(
            matches!(error, YamlError::InvalidScalar { ref tag, ref value, .. }
            if tag == "tag:yaml.org,2002:int" && value == "1.5")
        );
        assert!(matches!(
            load_err("!!bool y"),
            YamlError::InvalidScalar { .. }
        ));
        assert!(matches!(
            load_err("a: !!int"),
            YamlError::InvalidScalar { .. }
        ));
        assert!(matches!(
            load_err("a: !!float"),
            YamlError::InvalidScalar { .. }
        ));
        for (text, message) in [
            ("!!map [1]", "expected a mapping node, but found sequence"),
            (
                "!!seq {a: 1}",
                "expected a sequence node, but found mapping",
            ),
            ("!!str [1]", "expected a scalar node, but found sequence"),
            ("!!int {a: 1}", "expected a scalar node, but found mapping"),
        ] {
            match load_err(text) {
                YamlError::Construct {
                    message: m,
                    mark: at,
                } => {
                    assert_eq!(m, message, "{text}");
                    assert_eq!(at, mark(1, 1), "{text}");
                }
                other => panic!("{text}: unexpected {other}"),
            }
        }
    }

    #[test]
    fn unknown_tags_are_errors() {
        match load_err("- !foo bar") {
            YamlError::UnsupportedTag { tag, mark: m } => {
                assert_eq!(tag, "!foo");
                assert_eq!(m, mark(1, 3));
            }
            other => panic!("unexpected {other}"),
        }
        assert!(matches!(load_err("a: !!python/name:os.system x"),
            YamlError::UnsupportedTag { ref tag, .. } if tag == "tag:yaml.org,2002:python/name:os.system"));
        // `<<` and `=` only mean something as mapping keys; PyYAML has no constructor otherwise.
        for text in ["<<", "a: <<", "a: !!merge <<", "=", "a: ="] {
            assert!(
                matches!(load_err(text), YamlError::UnsupportedTag { .. }),
                "{text}"
            );
        }
        assert_eq!(load("=: a"), json!({"=": "a"}));
    }

    #[test]
    fn not_json_serializable_tags() {
        for text in [
            "!!binary aGk=",
            "a: !!binary |\n  aGk=",
            "!!set {a, b}",
            "? !!binary aGk=\n: a",
        ] {
            assert!(
                matches!(load_err(text), YamlError::NotJsonSerializable { .. }),
                "{text}"
            );
        }
    }

    #[test]
    fn non_specific_tag_resolves_even_quoted_scalars() {
        // PyYAML quirk: `!` re-enables implicit resolution.
        assert_eq!(load("! 12"), json!(12));
        assert_eq!(load("! '12'"), json!(12));
        assert_eq!(load("a: ! x"), json!({"a": "x"}));
        assert_eq!(load("a: ! "), json!({"a": null}));
        assert_eq!(load("a: !\n  - 1"), json!({"a": [1]}));
    }

    #[test]
    fn ordered_maps_and_pairs() {
        assert_eq!(load("!!omap [a: 1, 2: b]"), json!([["a", 1], [2, "b"]]));
        assert_eq!(load("!!pairs [a: 1, a: 2]"), json!([["a", 1], ["a", 2]]));
        assert_eq!(load("x: !!omap [[1]: a]"), json!({"x": [[[1], "a"]]}));
        assert!(matches!(
            load_err("!!omap [{a: 1, b: 2}]"),
            YamlError::Construct { .. }
        ));
        assert!(matches!(
            load_err("!!omap {a: 1}"),
            YamlError::Construct { .. }
        ));
        assert!(matches!(
            load_err("!!pairs [1, 2]"),
            YamlError::Construct { .. }
        ));
        assert!(matches!(
            load_err("!!omap [{<<: {a: 1}}]"),
            YamlError::UnsupportedTag { .. }
        ));
    }

    #[test]
    fn merge_keys() {
        assert_eq!(
            dumped("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n  z: 4"),
            r#"{"base": {"x": 1, "y": 2}, "derived": {"x": 1, "y": 3, "z": 4}}"#
        );
        // A list of merges: earlier maps win, but key order follows the last map first.
        assert_eq!(
            dumped("a: &a {x: 1}\nb: &b {y: 2, x: 3}\nc: {<<: [*a, *b], z: 0}"),
            r#"{"a": {"x": 1}, "b": {"y": 2, "x": 3}, "c": {"y": 2, "x": 1, "z": 0}}"#
        );
        // Two `<<` keys in one mapping: the later one wins.
        assert_eq!(
            dumped("a: &m {k: v}\nb:\n  <<: *m\n  <<: {k: w}"),
            r#"{"a": {"k": "v"}, "b": {"k": "w"}}"#
        );
        assert_eq!(
            dumped("a: &a {x: 1}\nb: &b {y: 2}\nc: {<<: *a, <<: *b, x: 9}"),
            r#"{"a": {"x": 1}, "b": {"y": 2}, "c": {"x": 9, "y": 2}}"#
        );
        // Explicit keys win wherever they are, and keep the merged key's position.
        assert_eq!(
            dumped("a: {x: 2, <<: {x: 1, y: 5}}"),
            r#"{"a": {"x": 2, "y": 5}}"#
        );
        assert_eq!(dumped("a: {<<: {x: 1}, x: 2}"), r#"{"a": {"x": 2}}"#);
        assert_eq!(
            dumped("a: {<<: [{x: 1}, {x: 2}, {x: 3}]}"),
            r#"{"a": {"x": 1}}"#
        );
        // Merged maps are flattened first.
        assert_eq!(
            dumped("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: [*b, {z: 3, x: 9}], w: 4}"),
            r#"{"a": {"x": 1}, "b": {"x": 1, "y": 2}, "c": {"z": 3, "x": 1, "y": 2, "w": 4}}"#
        );
        assert_eq!(
            dumped("a: &a {x: 1, <<: {q: 0}}\nb: {<<: [*a, *a]}"),
            r#"{"a": {"q": 0, "x": 1}, "b": {"q": 0, "x": 1}}"#
        );
        assert_eq!(
            dumped(
                "defaults: &d\n  a: 1\n  b: [1, 2]\nlist:\n  - <<: *d\n    c: 3\n  - <<: *d\n    a: 0\n"
            ),
            r#"{"defaults": {"a": 1, "b": [1, 2]}, "list": [{"a": 1, "b": [1, 2], "c": 3}, {"a": 0, "b": [1, 2]}]}"#
        );
        assert_eq!(dumped("a: {<<: []}"), r#"{"a": {}}"#);
        assert_eq!(dumped("&a {x: 1, <<: *a}"), r#"{"x": 1}"#);
        // A quoted `<<` is an ordinary key.
        assert_eq!(dumped("a: {'<<': 1}"), r#"{"a": {"<<": 1}}"#);
    }

    #[test]
    fn bad_merges() {
        match load_err("a: {<<: 1}") {
            YamlError::Construct { message, mark: m } => {
                assert_eq!(
                    message,
                    "expected a mapping or list of mappings for merging, but found scalar"
                );
                assert_eq!(m, mark(1, 9));
            }
            other => panic!("unexpected {other}"),
        }
        match load_err("a: {<<: [1]}") {
            YamlError::Construct { message, mark: m } => {
                assert_eq!(message, "expected a mapping for merging, but found scalar");
                assert_eq!(m, mark(1, 10));
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn anchors_and_aliases() {
        assert_eq!(load("a: &x 1\nb: *x"), json!({"a": 1, "b": 1}));
        assert_eq!(
            load("a: &a [1, 2]\nb: [*a, *a]"),
            json!({"a": [1, 2], "b": [[1, 2], [1, 2]]})
        );
        assert_eq!(load("a: &anch\nb: *anch"), json!({"a": null, "b": null}));
        assert_eq!(load("&k a: 1\nb: *k"), json!({"a": 1, "b": "a"}));
        assert_eq!(load("a: !!str &x 1\nb: *x"), json!({"a": "1", "b": "1"}));
        assert_eq!(load("a: &x !!str 1\nb: *x"), json!({"a": "1", "b": "1"}));
        assert_eq!(
            load("a: {<<: &c {x: 1}, y: *c}"),
            json!({"a": {"x": 1, "y": {"x": 1}}})
        );
        match load_err("a: 1\nb: *a") {
            YamlError::Syntax { mark: m, .. } => assert_eq!(m, mark(2, 4)),
            other => panic!("unexpected {other}"),
        }
        match load_err("- &x a\n- *x\n- &x b\n- *x") {
            YamlError::DuplicateAnchor { name, mark: m } => {
                assert_eq!(name, "x");
                assert_eq!(m, mark(3, 3));
            }
            other => panic!("unexpected {other}"),
        }
        // Anchors do not carry over to the next document; the same name may be reused there.
        assert!(load_all_yaml11("--- &a [1]\n--- *a").is_err());
        assert_eq!(
            load_all_yaml11("--- &a [1]\n--- &a [2]").ok(),
            Some(vec![json!([1]), json!([2])])
        );
    }

    #[test]
    fn recursive_aliases_are_errors() {
        // json.dumps: "ValueError: Circular reference detected".
        for text in ["a: &a [*a]", "&a {x: 1, y: {<<: *a}}", "&a [{b: *a}]"] {
            assert!(
                matches!(load_err(text), YamlError::RecursiveAlias { .. }),
                "{text}"
            );
        }
    }

    #[test]
    fn alias_bomb_of_long_strings_is_capped_by_bytes() {
        // Few nodes (about 4000, far below YAML11_MAX_NODES), but each is a 10 kB string: 40 MB
        // from a 10 kB document.
        let long = "x".repeat(10_000);
        let mut text = format!("a: &a \"{long}\"\n");
        for (name, previous) in [("b", "a"), ("c", "b"), ("d", "c")] {
            let items = vec![format!("*{previous}"); 10].join(", ");
            text.push_str(&format!("{name}: &{name} [{items}]\n"));
        }
        text.push_str("e: [*d, *d, *d, *d]\n");
        match load_err(&text) {
            YamlError::TooManyBytes { limit } => assert_eq!(limit, YAML11_MAX_ALIAS_BYTES),
            other => panic!("unexpected {other}"),
        }
        // The same through merge keys: a mapping with a long key merged many times.
        let mut merged = format!("base: &base\n  ? \"{long}\"\n  : 1\n");
        for i in 0..2000 {
            merged.push_str(&format!("m{i}: {{<<: *base}}\n"));
        }
        match load_err(&merged) {
            YamlError::TooManyBytes { .. } => {}
            other => panic!("unexpected {other}"),
        }
        // Below the cap the same shape loads: 1000 copies, 10 MB.
        let mut small = format!("a: &a \"{long}\"\n");
        for (name, previous) in [("b", "a"), ("c", "b"), ("d", "c")] {
            let items = vec![format!("*{previous}"); 10].join(", ");
            small.push_str(&format!("{name}: &{name} [{items}]\n"));
        }
        let value = load(&small);
        assert_eq!(
            value.pointer("/d/9/9/9").and_then(Value::as_str),
            Some(long.as_str())
        );
    }

    #[test]
    fn sexagesimal_integers_are_capped_like_pythons_int_to_text_limit() {
        // 60^2500 has 4446 digits: Python builds it, then json.dumps refuses to write it.
        let long = format!("1{}", ":59".repeat(2500));
        for text in [
            format!("x: {long}"),
            format!("? {long}\n: x"),
            format!("x: !!int {long}"),
        ] {
            match load_err(&text) {
                YamlError::IntegerTooLong { limit, mark } => {
                    assert_eq!(limit, MAX_INT_DIGITS);
                    assert_eq!(mark.line, 1);
                }
                other => panic!("unexpected {other}"),
            }
        }
        // 90 kB of `:59` stops at the limit instead of multiplying a 53,000-digit number 30,000
        // times.
        let huge = format!("x: 1{}", ":59".repeat(30_000));
        assert!(matches!(load_err(&huge), YamlError::IntegerTooLong { .. }));
        // Up to the limit keys keep their exact decimal text, as json.dumps writes them.
        let fits = format!("? 1{}\n: x", ":00".repeat(2000));
        let value = load(&fits);
        let key = value.as_object().unwrap().keys().next().unwrap().clone();
        // Python: len(str(60**2000)) == 3557, and it starts with these digits.
        assert_eq!(key.len(), 3557);
        assert!(key.starts_with("20067846354902095384"), "{key}");
    }

    #[test]
    fn alias_bomb_is_capped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let previous = format!("*a{}", level - 1);
            let items = [previous.as_str(); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        match load_err(&text) {
            YamlError::TooManyNodes { limit } => assert_eq!(limit, YAML11_MAX_NODES),
            other => panic!("unexpected {other}"),
        }
        // Below the cap the same shape loads: 10^4 leaves.
        let mut small = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..4 {
            let previous = format!("*a{}", level - 1);
            let items = [previous.as_str(); 10].join(", ");
            small.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        let value = load(&small);
        assert_eq!(value.pointer("/a3/9/9/9/9"), Some(&json!("x")));
    }

    #[test]
    fn merge_bomb_is_capped() {
        let mut text = String::from("m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n");
        for level in 1..30 {
            let previous = format!("*m{}", level - 1);
            text.push_str(&format!(
                "m{level}: &m{level} {{<<: [{previous}, {previous}, {previous}]}}\n"
            ));
        }
        assert!(matches!(load_err(&text), YamlError::TooManyNodes { .. }));
    }

    #[test]
    fn depth_is_capped() {
        let depth = YAML11_MAX_DEPTH + 10;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(load_yaml11(&text).is_err());
        // Aliases can nest deeper than the source text does.
        let mut text = String::from("a0: &a0 [x]\n");
        for level in 1..=YAML11_MAX_DEPTH {
            text.push_str(&format!("a{level}: &a{level} [*a{}]\n", level - 1));
        }
        assert!(matches!(load_err(&text), YamlError::TooDeep { .. }));
        // Deep but allowed.
        let depth = 200;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let mut value = load(&text);
        for _ in 1..depth {
            value = match value {
                Value::Array(mut items) if items.len() == 1 => items.remove(0),
                other => panic!("unexpected {other}"),
            };
        }
        assert_eq!(value, json!([]));
    }

    #[test]
    fn duplicate_keys_keep_first_position_and_last_value() {
        assert_eq!(dumped("a: 1\na: 2\nb: 3\na: 4"), r#"{"a": 4, "b": 3}"#);
        assert_eq!(dumped("{b: 1, a: 2, b: 3}"), r#"{"b": 3, "a": 2}"#);
    }

    #[test]
    fn non_string_keys_become_json_strings() {
        let cases = [
            ("1: a", r#"{"1": "a"}"#),
            ("true: x", r#"{"true": "x"}"#),
            ("yes: x", r#"{"true": "x"}"#),
            ("off: x", r#"{"false": "x"}"#),
            ("null: x", r#"{"null": "x"}"#),
            ("~: x", r#"{"null": "x"}"#),
            ("? \n: x", r#"{"null": "x"}"#),
            ("1.5: x", r#"{"1.5": "x"}"#),
            ("1.0: x", r#"{"1.0": "x"}"#),
            ("1e3: x", r#"{"1e3": "x"}"#),
            ("0x10: x", r#"{"16": "x"}"#),
            ("0755: x", r#"{"493": "x"}"#),
            ("12:30: x", r#"{"750": "x"}"#),
            (".inf: x", r#"{"Infinity": "x"}"#),
            ("-.inf: x", r#"{"-Infinity": "x"}"#),
            (".nan: x", r#"{"NaN": "x"}"#),
            ("1.0e+400: x", r#"{"Infinity": "x"}"#),
            (
                "123456789012345678901234567890: x",
                r#"{"123456789012345678901234567890": "x"}"#,
            ),
            (
                "1.5e+3: a\n0.0001: b\n1e-05: c\n100000000000000000000.0: d\n-0.0: e",
                r#"{"1500.0": "a", "0.0001": "b", "1e-05": "c", "1e+20": "d", "-0.0": "e"}"#,
            ),
            (
                "- yes: no\n- on: off",
                r#"[{"true": false}, {"true": false}]"#,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(dumped(text), expected, "{text:?}");
        }
    }

    #[test]
    fn equal_python_keys_merge_like_a_dict() {
        // 1 == 1.0 == True and 0 == 0.0 == -0.0 == False in Python; the first key object stays.
        let cases = [
            ("{1: a, 1.0: b}", r#"{"1": "b"}"#),
            ("{1.0: a, 1: b}", r#"{"1.0": "b"}"#),
            ("{true: a, 1: b}", r#"{"true": "b"}"#),
            ("{1: a, 1.0: b, true: c}", r#"{"1": "c"}"#),
            ("{0: a, false: b, -0.0: c}", r#"{"0": "c"}"#),
            ("{False: a, 0: b, off: c, no: d}", r#"{"false": "d"}"#),
            ("{0x10: a, 16: b, 020: c}", r#"{"16": "c"}"#),
            ("{~: a, null: b}", r#"{"null": "b"}"#),
            ("{.nan: a, .NaN: b}", r#"{"NaN": "b"}"#),
            (
                "{1e+400: a, .inf: b}",
                r#"{"1e+400": "a", "Infinity": "b"}"#,
            ),
            (
                "{100000000000000000000.0: a, 100000000000000000000: b}",
                r#"{"1e+20": "b"}"#,
            ),
            (
                "{9007199254740993: a, 9007199254740992.0: b}",
                r#"{"9007199254740993": "a", "9007199254740992.0": "b"}"#,
            ),
            ("!!int '1': a\n1: b", r#"{"1": "b"}"#),
            ("{!!float '1': a, 1: b}", r#"{"1.0": "b"}"#),
        ];
        for (text, expected) in cases {
            assert_eq!(dumped(text), expected, "{text:?}");
        }
    }

    #[test]
    fn keys_json_would_write_twice_are_errors() {
        // json.dumps writes {"1": "a", "1": "b"}; a JSON object here cannot hold that.
        match load_err("{1: a, '1': b}") {
            YamlError::DuplicateJsonKey { key, mark: m } => {
                assert_eq!(key, "1");
                assert_eq!(m, mark(1, 8));
            }
            other => panic!("unexpected {other}"),
        }
        assert!(matches!(
            load_err("{null: a, 'null': b}"),
            YamlError::DuplicateJsonKey { .. }
        ));
        assert!(matches!(
            load_err("!!str 1: a\n1: b"),
            YamlError::DuplicateJsonKey { .. }
        ));
    }

    #[test]
    fn unhashable_keys_are_errors() {
        for (text, kind, at) in [
            ("{[1]: a}", "sequence", mark(1, 2)),
            ("{{a: 1}: b}", "mapping", mark(1, 2)),
            ("? [1, 2]\n: x", "sequence", mark(1, 3)),
            ("[a, b]: c", "sequence", mark(1, 1)),
        ] {
            match load_err(text) {
                YamlError::UnhashableKey { kind: k, mark: m } => {
                    assert_eq!(k, kind, "{text}");
                    assert_eq!(m, at, "{text}");
                }
                other => panic!("{text}: unexpected {other}"),
            }
        }
        assert!(matches!(
            load_err("? !!set {a}\n: x"),
            YamlError::UnhashableKey { .. }
        ));
    }

    #[test]
    fn block_and_quoted_scalars() {
        let cases = [
            ("a: |\n  line1\n  line2\n", json!({"a": "line1\nline2\n"})),
            (
                "a: >\n  folded\n  text\n\n  para\n",
                json!({"a": "folded text\npara\n"}),
            ),
            ("a: |-\n  strip\n", json!({"a": "strip"})),
            ("a: |+\n  keep\n\n", json!({"a": "keep\n\n"})),
            // At end of input without a line break, like libyaml/PyYAML.
            ("a: |\n  text", json!({"a": "text"})),
            ("a: >\n  text", json!({"a": "text"})),
            ("a: >2\n   indented\n", json!({"a": " indented\n"})),
            ("? |\n  block key\n: v", json!({"block key\n": "v"})),
            ("a: 'it''s'", json!({"a": "it's"})),
            (
                "a: \"multi\n  line\"\nb: 'x\n\n  y'",
                json!({"a": "multi line", "b": "x\ny"}),
            ),
            (
                "a: multi\n  line\n  plain",
                json!({"a": "multi line plain"}),
            ),
            ("a: \"\\x41\\t\\\\\"", json!({"a": "A\t\\"})),
            (
                "a: \"\\N\\_\\L\\P\"",
                json!({"a": "\u{85}\u{a0}\u{2028}\u{2029}"}),
            ),
            (
                "empty: ''\nnul: \"\"\nsp: ' '",
                json!({"empty": "", "nul": "", "sp": " "}),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(load(text), expected, "{text:?}");
        }
    }

    #[test]
    fn unicode_stays_unicode() {
        assert_eq!(load("key: café"), json!({"key": "café"}));
        assert_eq!(load("'é': \"\\u00e9\""), json!({"é": "é"}));
        assert_eq!(dumped("emoji: 😀"), r#"{"emoji": "\ud83d\ude00"}"#);
        assert_eq!(
            dumped("a: \"tab\\there \\u00e9 \\U0001F600\""),
            r#"{"a": "tab\there \u00e9 \ud83d\ude00"}"#
        );
        // A byte-order mark at the start is not content.
        assert_eq!(load("\u{feff}a: 1"), json!({"a": 1}));
    }

    #[test]
    fn multiple_documents() {
        let all = |text: &str| load_all_yaml11(text).ok();
        assert_eq!(all(""), Some(vec![]));
        assert_eq!(all("# c\n"), Some(vec![]));
        assert_eq!(all("---\n"), Some(vec![Value::Null]));
        assert_eq!(all("--- \n---\n"), Some(vec![Value::Null, Value::Null]));
        assert_eq!(all("---\n# c\n---\n"), Some(vec![Value::Null, Value::Null]));
        assert_eq!(all("---\n...\n"), Some(vec![Value::Null]));
        assert_eq!(
            all("a: 1\n---\nb: 2\n"),
            Some(vec![json!({"a": 1}), json!({"b": 2})])
        );
        assert_eq!(
            all("a\n---\nb\n...\n---\nc"),
            Some(vec![json!("a"), json!("b"), json!("c")])
        );
        assert_eq!(all("--- 1\n--- 2\n"), Some(vec![json!(1), json!(2)]));
        assert_eq!(
            all("a: 1\n---\n!!str 2\n---\n- x\n"),
            Some(vec![json!({"a": 1}), json!("2"), json!(["x"])])
        );
        assert_eq!(
            all("%YAML 1.1\n--- 1\n...\n%YAML 1.1\n--- 2"),
            Some(vec![json!(1), json!(2)])
        );
        assert!(matches!(
            load_all_yaml11("a: 1\n---\n["),
            Err(YamlError::Syntax { mark: m, .. }) if m.line == 3
        ));
    }

    #[test]
    fn single_document_only() {
        assert_eq!(load("a: 1\n...\n"), json!({"a": 1}));
        assert_eq!(load("--- |\n  text\n"), json!("text\n"));
        for (text, at) in [
            ("a: 1\n--- \nb: 2", mark(2, 1)),
            ("--- \n---\n", mark(2, 1)),
            ("foo: bar\n---", mark(2, 1)),
        ] {
            match load_err(text) {
                YamlError::MultipleDocuments { mark: m } => assert_eq!(m, at, "{text:?}"),
                other => panic!("{text:?}: unexpected {other}"),
            }
        }
        let error = load_err("a: 1\n---\nb: 2");
        assert_eq!(
            error.to_string(),
            "expected a single document in the stream, but found another document at line 2, column 1"
        );
    }

    #[test]
    fn invalid_yaml_reports_the_position() {
        let cases = [
            ("a: 'unterminated", mark(1, 4)),
            ("a: [1, 2", mark(1, 4)),
            ("{a: 1", mark(1, 1)),
            ("a: b: c", mark(1, 5)),
            ("key: - a", mark(1, 6)),
            ("a: b\n  c: d", mark(2, 4)),
            ("a: @b", mark(1, 4)),
            ("%b", mark(1, 3)),
        ];
        for (text, at) in cases {
            match load_err(text) {
                YamlError::Syntax { message, mark: m } => {
                    assert_eq!(m, at, "{text:?}: {message}");
                    assert!(!message.is_empty());
                }
                other => panic!("{text:?}: unexpected {other}"),
            }
        }
        let error = load_err("a: 'unterminated");
        assert_eq!(
            error.to_string(),
            "invalid YAML at line 1, column 4: unclosed quote"
        );
    }

    #[test]
    fn kubernetes_manifest_matches_python_byte_for_byte() {
        let manifest = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: &labels {app: web, tier: 'front'}
  annotations:
    description: \"Café ☕ — 😀\"
    enabled: yes
    mode: 0644
spec:
  replicas: 3
  selector: {matchLabels: *labels}
  template:
    metadata: {labels: *labels}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        ports: [{containerPort: 80}, {containerPort: 8080:80}]
        resources: {limits: {cpu: 0.5, memory: 1e3}}
        env:
        - {name: DEBUG, value: 'true'}
        - {name: LEVEL, value: on}
        - name: RATIO
          value: 1.0e-7
        - name: TIME
          value: 12:30
        command: |
          echo hi
          exit 0
";
        // Output of `json.dumps(yaml.safe_load(manifest))` with PyYAML 6.0.3 / Python 3.11.
        let python = r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "annotations": {"description": "Caf\u00e9 \u2615 \u2014 \ud83d\ude00", "enabled": true, "mode": 420}}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "tier": "front"}}, "template": {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}, {"containerPort": "8080:80"}], "resources": {"limits": {"cpu": 0.5, "memory": "1e3"}}, "env": [{"name": "DEBUG", "value": "true"}, {"name": "LEVEL", "value": true}, {"name": "RATIO", "value": 1e-07}, {"name": "TIME", "value": 750}], "command": "echo hi\nexit 0\n"}]}}}}"#;
        assert_eq!(dumped(manifest), python);
    }

    #[test]
    fn big_int_helpers() {
        let int = |text: &str| construct_int(text).ok().map(|i| i.to_decimal());
        assert_eq!(
            int("0x_ffff_ffff_ffff_ffff_ffff").as_deref(),
            Some("1208925819614629174706175")
        );
        assert_eq!(
            int("-0b1_0000000000000000000000000000000000000000000000000000000000000000").as_deref(),
            Some("-18446744073709551616")
        );
        assert_eq!(int("1000000000:0:0").as_deref(), Some("3600000000000"));
        assert_eq!(int("-0").as_deref(), Some("0"));
        assert_eq!(int(""), None);
        assert_eq!(int("-"), None);
        assert_eq!(
            integral_float_decimal(1e20).as_deref(),
            Some("100000000000000000000")
        );
        assert_eq!(
            integral_float_decimal(-2f64.powi(70)).as_deref(),
            Some("-1180591620717411303424")
        );
        assert_eq!(integral_float_decimal(-0.0).as_deref(), Some("0"));
        assert_eq!(
            integral_float_decimal(9007199254740990.0).as_deref(),
            Some("9007199254740990")
        );
        assert_eq!(
            integral_float_decimal(9.5e18).as_deref(),
            Some("9500000000000000000")
        );
        assert_eq!(integral_float_decimal(f64::MAX).map(|d| d.len()), Some(309));
        assert_eq!(integral_float_decimal(0.5), None);
    }
}
