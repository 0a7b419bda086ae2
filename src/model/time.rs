//! Points in time as the store writes them: RFC 3339 in UTC to the second
//! (`2026-11-27T10:00:00Z`), read back from any RFC 3339 text.

use schemars::JsonSchema;

/// A point in time, kept as a [`jiff::Timestamp`] and written to the second in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(jiff::Timestamp);

impl Stamp {
    /// Now, to the second (so writing it and reading it back gives the same value).
    pub fn now() -> Self {
        Self::from_second(jiff::Timestamp::now().as_second())
    }

    /// The point `seconds` after the Unix epoch (clamped to the range jiff supports).
    pub fn from_second(seconds: i64) -> Self {
        let clamped = seconds.clamp(
            jiff::Timestamp::MIN.as_second(),
            jiff::Timestamp::MAX.as_second(),
        );
        Stamp(jiff::Timestamp::from_second(clamped).unwrap_or(jiff::Timestamp::UNIX_EPOCH))
    }

    /// `seconds` from now.
    pub fn in_seconds(seconds: u64) -> Self {
        Self::from_second(
            Self::now()
                .as_second()
                .saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX)),
        )
    }

    /// Seconds since the Unix epoch.
    pub fn as_second(self) -> i64 {
        self.0.as_second()
    }

    /// Seconds from now until this point (negative when it is past).
    pub fn seconds_from_now(self) -> i64 {
        self.as_second() - jiff::Timestamp::now().as_second()
    }

    /// The timestamp.
    pub fn timestamp(self) -> jiff::Timestamp {
        self.0
    }
}

impl From<jiff::Timestamp> for Stamp {
    fn from(t: jiff::Timestamp) -> Self {
        Stamp(t)
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.strftime("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl std::str::FromStr for Stamp {
    type Err = jiff::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Stamp)
    }
}

impl serde::Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Stamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(|e| {
            serde::de::Error::custom(format!(
                "{text:?} is not an RFC 3339 time like 2026-11-27T10:00:00Z ({e})"
            ))
        })
    }
}

impl JsonSchema for Stamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "String".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }

    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_as_read() {
        let text = "2026-11-27T10:00:00Z";
        let s: Stamp = text.parse().unwrap();
        assert_eq!(s.to_string(), text);
        // The same YAML text as the string it replaced.
        let yaml = serde_saphyr::to_string(&s).unwrap();
        assert_eq!(yaml, serde_saphyr::to_string(&text.to_owned()).unwrap());
        assert_eq!(serde_saphyr::from_str::<Stamp>(&yaml).unwrap(), s);
        assert!(serde_saphyr::from_str::<Stamp>("yesterday").is_err());
        // Offsets are read, and written back in UTC.
        let s: Stamp = "2026-11-27T11:00:00+01:00".parse().unwrap();
        assert_eq!(s.to_string(), text);
    }
}
