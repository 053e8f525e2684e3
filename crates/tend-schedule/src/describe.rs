//! Plain-English descriptions of schedules.

use crate::Schedule;

impl Schedule {
    /// A sentence a cron user would understand: `at 09:00 on Monday through Friday`.
    pub fn describe(&self) -> String {
        String::new()
    }
}
