//! Logging: JSON lines on stderr by default, human-readable with `--debug`. `RUST_LOG`
//! overrides the level. Panics are logged too, so a panic inside a composition leaves a line
//! beside the Fatal result it turns into.
//!
//! The JSON line is written by `JsonLines`, not by tracing-subscriber's JSON formatter: the
//! line is the same, but that formatter goes through a serde map and a hundred small writes,
//! a twentieth of what a RunFunction call cost; this writes the line straight into one
//! buffer, with serde_json escaping the strings.

use std::fmt;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber, logging to stderr; later calls are no-ops.
pub fn init(debug: bool) {
    init_with_writer(debug, std::io::stderr);
}

/// [`init`] with another destination (benchmarks log to a sink to time the line itself).
pub fn init_with_writer<W>(debug: bool, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let default = if debug {
        "debug,h2=info,hyper=info,tower=info"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let installed = if debug {
        let human = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer);
        human.try_init().is_ok()
    } else {
        json_lines(filter, writer).try_init().is_ok()
    };
    if installed {
        std::panic::set_hook(Box::new(|info| {
            tracing::error!(panic = %info, "panic (turned into a Fatal result)");
        }));
    }
}

/// The production format: one JSON object a line, the event's fields at the top level
/// beside `timestamp`, `level`, `message` and `target`, no span context.
pub(crate) fn json_lines<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(filter)
        .with(JsonLines { writer })
}

/// Writes each event as one JSON line, in one write: `{"timestamp":…,"level":…,` the
/// event's fields in order (`message` first), then `"target":…}`. What tracing-subscriber's
/// `json().flatten_event(true).with_current_span(false).with_span_list(false)` writes.
struct JsonLines<W> {
    writer: W,
}

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        // Events from the `log` crate (rustls) carry their origin as `log.*` fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let mut line = Vec::with_capacity(512);
        line.extend_from_slice(b"{\"timestamp\":\"");
        timestamp(&mut line, SystemTime::now());
        line.extend_from_slice(b"\",\"level\":\"");
        line.extend_from_slice(meta.level().as_str().as_bytes());
        line.push(b'"');
        event.record(&mut Fields(&mut line));
        line.extend_from_slice(b",\"target\":");
        string(&mut line, meta.target());
        line.extend_from_slice(b"}\n");
        // A log line that cannot be written has nowhere to be reported.
        let _ = self.writer.make_writer_for(meta).write_all(&line);
    }
}

/// Appends each field as `,"name":value`.
struct Fields<'a>(&'a mut Vec<u8>);

impl Fields<'_> {
    /// Appends `,"name":` and returns the line, or `None` for a field left out.
    fn key(&mut self, field: &Field) -> Option<&mut Vec<u8>> {
        let name = field.name();
        if name.starts_with("log.") {
            return None;
        }
        let name = name.strip_prefix("r#").unwrap_or(name);
        self.0.push(b',');
        string(self.0, name);
        self.0.push(b':');
        Some(self.0)
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some(line) = self.key(field) {
            string(line, value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if let Some(line) = self.key(field) {
            line.extend_from_slice(if value { b"true" } else { b"false" });
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if let Some(line) = self.key(field) {
            let _ = write!(line, "{value}");
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Some(line) = self.key(field) {
            let _ = write!(line, "{value}");
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if let Some(line) = self.key(field) {
            // serde_json writes what JSON allows: NaN and infinities as null.
            let _ = serde_json::to_writer(&mut *line, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if let Some(line) = self.key(field) {
            let _ = serde::Serializer::collect_str(
                &mut serde_json::Serializer::new(line),
                &Debugged(value),
            );
        }
    }
}

/// `value` as a JSON string, escaped by serde_json.
fn string(line: &mut Vec<u8>, value: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(line, value);
}

/// A `Debug` value shown as text (serde_json's `collect_str` escapes `Display` output as it
/// is written).
struct Debugged<'a>(&'a dyn fmt::Debug);

impl fmt::Display for Debugged<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `at` in UTC as RFC 3339 with microseconds: `2026-11-30T09:55:30.443438Z`.
fn timestamp(line: &mut Vec<u8>, at: SystemTime) {
    // A clock before 1970 is written as 1970.
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    let _ = write!(
        line,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since.subsec_micros()
    );
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shifted to 0000-03-01, so that a leap day ends its 400-year era's year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A log destination for tests: every clone appends to the same text.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl Lines {
    /// What was written so far, taken out.
    pub(crate) fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

#[cfg(test)]
impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// Events with every kind of field, as the server logs them.
    fn log_some() {
        let error = std::io::Error::other("refused: \"x\"\n");
        tracing::info!(
            tag = "t\"1\\",
            xr.api_version = "sco/v1",
            duration_us = 38u64,
            delta = -3i64,
            ratio = 0.5f64,
            nan = f64::NAN,
            tls = false,
            ttl = ?Duration::from_secs(60),
            r#type = "raw",
            control = "\u{1}\t",
            every_control = (0u8..0x20).chain([0x7f]).map(char::from).collect::<String>(),
            "RunFunction"
        );
        tracing::warn!(error = %error, "cannot handle a shutdown signal");
        tracing::error!("no fields, only a message with \"quotes\" and ünïcödé");
    }

    /// A JSON object's entries in the order written.
    struct Pairs(Vec<(String, serde_json::Value)>);
    impl<'de> serde::Deserialize<'de> for Pairs {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Pairs;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Pairs, A::Error> {
                    let mut pairs = Vec::new();
                    while let Some(pair) = map.next_entry()? {
                        pairs.push(pair);
                    }
                    Ok(Pairs(pairs))
                }
            }
            d.deserialize_map(Visitor)
        }
    }

    #[test]
    fn lines_are_what_tracing_subscribers_json_format_writes() {
        let ours = Lines::default();
        let theirs = Lines::default();
        let (o, t) = (ours.clone(), theirs.clone());
        tracing::subscriber::with_default(
            json_lines(EnvFilter::new("info"), move || o.clone()),
            log_some,
        );
        let reference = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new("info"))
            .with_writer(move || t.clone())
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .finish();
        tracing::subscriber::with_default(reference, log_some);
        let (ours, theirs) = (ours.take(), theirs.take());
        assert_eq!(ours.lines().count(), 3, "{ours}");
        for (a, b) in ours.lines().zip(theirs.lines()) {
            // The same keys in the same order with the same values, but for the time.
            let parse = |line: &str| -> Vec<(String, serde_json::Value)> {
                let Pairs(pairs) = serde_json::from_str(line).unwrap();
                pairs
                    .into_iter()
                    .filter(|(k, _)| k != "timestamp")
                    .collect()
            };
            assert_eq!(parse(a), parse(b), "\nours:   {a}\ntheirs: {b}");
            // Byte for byte, too, after the time: escapes included.
            let after_time = |line: &str| {
                let (_, rest) = line
                    .split_once("\",\"level\":")
                    .expect("a level after the time");
                rest.to_owned()
            };
            assert_eq!(after_time(a), after_time(b), "\nours:   {a}\ntheirs: {b}");
            assert!(a.starts_with("{\"timestamp\":\""), "{a}");
        }
    }

    #[test]
    fn a_line_is_one_write() {
        #[derive(Clone, Default)]
        struct Writes(Arc<Mutex<Vec<usize>>>);
        impl std::io::Write for Writes {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().push(buf.len());
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let writes = Writes::default();
        let w = writes.clone();
        tracing::subscriber::with_default(
            json_lines(EnvFilter::new("info"), move || w.clone()),
            log_some,
        );
        assert_eq!(writes.0.lock().unwrap().len(), 3);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let mut line = Vec::new();
        timestamp(&mut line, UNIX_EPOCH);
        assert_eq!(line, b"1970-01-01T00:00:00.000000Z");
        // Against the time crate, over four centuries of days and a spread of times of day.
        let mut seconds: u64 = 0;
        while seconds < 400 * 366 * 86_400 {
            let at = UNIX_EPOCH + Duration::new(seconds, (seconds % 1_000_000) as u32 * 1000);
            let t = time::OffsetDateTime::from(at);
            let want = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.microsecond()
            );
            line.clear();
            timestamp(&mut line, at);
            assert_eq!(String::from_utf8_lossy(&line), want);
            seconds += 86_400 / 3 + 7;
        }
    }
}
