//! Which handler a deferral record belongs to: a handler's stable identity, and how a record
//! written by this or an older charm revision finds it again (the rules are in the
//! [`state`](crate::state) module docs).

use crate::state::{Deferred, DeferredEvent, StateDoc};

/// A handler's identity in deferral records (the `state` module docs say how it is matched).
#[derive(Debug, Clone)]
pub(crate) struct HandlerId {
    /// The explicit name, the fn or method path, or `<fn>::{{closure}}`; after the plugin's key.
    pub(crate) name: String,
    /// The filter's text, or `event:<name>` for a library event.
    pub(crate) filter: String,
    /// Rust's type name of the handler: how records older than `filter` named it (`<type>#<n>`).
    pub(crate) type_name: &'static str,
    /// The key of the plugin that registered it.
    pub(crate) plugin: Option<String>,
}

/// Marks the type name of a closure: it says where the closure is written, not which one it is.
const CLOSURE_MARK: &str = "{{closure}}";

/// Whether a deferral record (in the current form) names this handler.
pub(crate) fn is_record_of(record: &Deferred, id: &HandlerId) -> bool {
    record.observer == id.name && record.filter.as_deref() == Some(id.filter.as_str())
}

pub(crate) fn add_deferred(state: &mut StateDoc, id: &HandlerId, event: DeferredEvent) {
    if state
        .deferred
        .iter()
        .any(|d| is_record_of(d, id) && d.event == event)
    {
        return;
    }
    state.deferred.push(Deferred {
        seq: state.next_seq,
        observer: id.name.clone(),
        filter: Some(id.filter.clone()),
        event,
    });
    state.next_seq += 1;
}

/// The handler a deferral record names, or why no handler may run it (see the `state` module
/// docs). `takes` says whether a handler's filter still matches the recorded event.
pub(crate) fn resolve<'o, O>(
    observers: &'o [O],
    id_of: impl Fn(&O) -> &HandlerId,
    takes: impl Fn(&O) -> bool,
    record: &Deferred,
) -> Result<&'o O, String> {
    let Some(filter) = &record.filter else {
        return resolve_legacy(observers, id_of, takes, &record.observer);
    };
    let named: Vec<&O> = observers
        .iter()
        .filter(|o| id_of(o).name == record.observer)
        .collect();
    let exact: Vec<&O> = named
        .iter()
        .copied()
        .filter(|o| id_of(o).filter == *filter)
        .collect();
    let successor = match named.is_empty() {
        true => plugin_successor(observers, &id_of, record),
        false => None,
    };
    let chosen = match (exact.as_slice(), successor) {
        ([one], _) => *one,
        ([], Some(successor)) => successor,
        ([], None) if record.observer.contains(CLOSURE_MARK) => {
            // A closure is known only by where it is written and what it subscribes to.
            return Err(format!(
                "no handler {} on {filter} any more",
                record.observer
            ));
        }
        ([], None) => {
            // A named fn, method or explicit name whose filter changed: still the same code.
            let taking: Vec<&O> = named.into_iter().filter(|o| takes(o)).collect();
            match taking.as_slice() {
                [one] => *one,
                [] => {
                    return Err(format!(
                        "no handler {} takes this event any more",
                        record.observer
                    ));
                }
                _ => {
                    return Err(format!(
                        "{} handlers named {} take this event",
                        taking.len(),
                        record.observer
                    ));
                }
            }
        }
        (_, _) => {
            return Err(format!(
                "{} handlers are named {} on {filter}",
                exact.len(),
                record.observer
            ));
        }
    };
    if !takes(chosen) {
        return Err(format!(
            "handler {} no longer subscribes to this event (its filter is {})",
            record.observer,
            id_of(chosen).filter
        ));
    }
    Ok(chosen)
}

/// The one handler of the plugin that deferred `record` (its key prefixes the record's name) with
/// the record's filter: a library's handler for an event stays its handler when the library is
/// rewritten (a closure becomes a method, a module is renamed), since the plugin key is stable.
fn plugin_successor<'o, O>(
    observers: &'o [O],
    id_of: &impl Fn(&O) -> &HandlerId,
    record: &Deferred,
) -> Option<&'o O> {
    let (key, _) = record.observer.split_once('/')?;
    let filter = record.filter.as_deref()?;
    let mut same = observers.iter().filter(|o| {
        let id = id_of(o);
        id.plugin.as_deref() == Some(key) && id.filter == filter
    });
    let one = same.next()?;
    same.next().is_none().then_some(one)
}

/// [`resolve`] for a record written before handler names: `<type name>#<registration counter>`.
fn resolve_legacy<'o, O>(
    observers: &'o [O],
    id_of: impl Fn(&O) -> &HandlerId,
    takes: impl Fn(&O) -> bool,
    observer: &str,
) -> Result<&'o O, String> {
    let type_name = observer.rsplit_once('#').map_or(observer, |(name, _)| name);
    if type_name.contains(CLOSURE_MARK) {
        return Err(format!(
            "it was deferred by a closure ({observer}) under an id from an older charm revision \
             that gave only its position, which cannot be matched safely"
        ));
    }
    let taking: Vec<&O> = observers
        .iter()
        .filter(|o| id_of(o).type_name == type_name && takes(o))
        .collect();
    match taking.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!("no handler {type_name} takes this event any more")),
        _ => Err(format!(
            "{} handlers {type_name} take this event, and an older record cannot tell which",
            taking.len()
        )),
    }
}
