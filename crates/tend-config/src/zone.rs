//! Time zones by IANA name, and the machine's own zone.

use std::fmt;

use jiff::tz::TimeZone;

use crate::error::suggest;
use crate::read::Problem;

/// A time zone that remembers the IANA name it was given by, for display and for writing back.
#[derive(Debug, Clone)]
pub struct ZoneName {
    name: String,
    tz: TimeZone,
}

impl PartialEq for ZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for ZoneName {}

const ZONE_HINT: &str = "Time zones are IANA names like `Europe/Berlin` or `UTC`";

impl ZoneName {
    pub fn utc() -> Self {
        ZoneName {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// Looks a zone up in jiff's time zone database (the system's `zoneinfo`).
    pub fn lookup(name: &str) -> Result<ZoneName, crate::units::ValueError> {
        ZoneName::parse_problem(name).map_err(Into::into)
    }

    pub(crate) fn parse_problem(name: &str) -> Result<ZoneName, Problem> {
        let db = jiff::tz::db();
        match db.get(name) {
            Ok(tz) => {
                // The database is case-insensitive; keep its spelling so files written back
                // and `tend show` use the canonical name.
                let name = tz.iana_name().unwrap_or(name).to_owned();
                Ok(ZoneName { name, tz })
            }
            Err(_) => {
                let names: Vec<String> = db.available().map(|n| n.as_str().to_owned()).collect();
                let hint = match suggest(name, names.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`? {ZONE_HINT}"),
                    None if db.is_definitively_empty() => format!(
                        "{ZONE_HINT}; no time zone database was found on this machine (install tzdata)"
                    ),
                    None => ZONE_HINT.to_owned(),
                };
                Err(Problem::new(format!("unknown time zone `{name}`")).hint(hint))
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }
}

impl fmt::Display for ZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl serde::Serialize for ZoneName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

/// The machine's time zone: the last resort when neither the task nor a config names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineZone {
    pub zone: ZoneName,
    /// Why the zone is not what the machine says, when it is not (shown by `tend show`).
    pub note: Option<String>,
}

impl MachineZone {
    /// Asks the system (`TZ`, `/etc/localtime`); falls back to UTC with a note.
    pub fn detect() -> Self {
        MachineZone::from_system(TimeZone::try_system())
    }

    /// The zone a detection produced; separate from [`MachineZone::detect`] for tests.
    pub fn from_system(found: Result<TimeZone, jiff::Error>) -> Self {
        let fix = "set `timezone` in the task or `[defaults] timezone` in the config";
        match found {
            Ok(tz) => match tz.iana_name().map(str::to_owned) {
                Some(name) => MachineZone {
                    zone: ZoneName { name, tz },
                    note: None,
                },
                None => MachineZone {
                    zone: ZoneName::utc(),
                    note: Some(format!(
                        "the machine's time zone has no IANA name; using UTC ({fix})"
                    )),
                },
            },
            Err(e) => MachineZone {
                zone: ZoneName::utc(),
                note: Some(format!(
                    "the machine's time zone is unknown ({e}); using UTC ({fix})"
                )),
            },
        }
    }

    /// A fixed zone, for tests and for callers that already know it.
    pub fn fixed(zone: ZoneName) -> Self {
        MachineZone { zone, note: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn looks_up_zones_and_keeps_canonical_names() {
        assert_eq!(
            ZoneName::lookup("Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert_eq!(
            ZoneName::lookup("europe/berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert_eq!(ZoneName::lookup("utc").unwrap().name(), "UTC");
    }

    #[test]
    fn unknown_zone_suggests_close_name() {
        let p = ZoneName::parse_problem("Europe/Berln").unwrap_err();
        assert_eq!(p.message, "unknown time zone `Europe/Berln`");
        assert_eq!(
            p.hint.as_deref(),
            Some(
                "did you mean `Europe/Berlin`? Time zones are IANA names like `Europe/Berlin` or `UTC`"
            )
        );
        let p = ZoneName::parse_problem("Mars/Olympus_Mons_Base").unwrap_err();
        assert_eq!(p.hint.as_deref(), Some(ZONE_HINT));
    }

    #[test]
    fn machine_zone_falls_back_to_utc_with_a_note() {
        let named = MachineZone::from_system(TimeZone::get("Asia/Tokyo"));
        assert_eq!(
            named,
            MachineZone::fixed(ZoneName::lookup("Asia/Tokyo").unwrap())
        );
        let unnamed = MachineZone::from_system(Ok(TimeZone::fixed(jiff::tz::offset(3))));
        assert_eq!(unnamed.zone, ZoneName::utc());
        assert!(unnamed.note.unwrap().contains("no IANA name"));
        let failed = MachineZone::from_system(TimeZone::get("No/Such_Zone"));
        assert_eq!(failed.zone, ZoneName::utc());
        assert!(failed.note.unwrap().contains("unknown"));
    }
}
