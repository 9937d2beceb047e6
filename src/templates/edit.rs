//! Schedules as JSON documents for the API and the console, and back into the schedule file the loader
//! checks. The file is written here line by line, so every problem the loader reports at a line can be
//! traced back to the JSON field that produced it.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::scheduling::Schedule;

/// `GET /api/v1/schedules/{name}` answers with this; `PUT` takes the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDocument {
    pub name: String,
    /// The version being replaced; a save makes the next one. A stale version is refused, so two people
    /// editing at once cannot undo each other's work.
    pub version: i64,
    pub kind: String,
    /// How late a text may still go out, like `24h`.
    pub max_lateness: String,
    /// For a bridge schedule: the last day (after discharge) on which it replaces other schedules' steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces_through_day: Option<i32>,
    pub steps: Vec<StepDocument>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDocument {
    pub id: String,
    /// Calendar days after discharge.
    pub day: i32,
    /// A fixed local time like `18:00`; without one the step keeps the discharge's time of day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Like `caring/first`.
    pub template: String,
    /// Local send window like `10:00-18:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    #[serde(default)]
    pub weekdays_only: bool,
}

impl From<&Schedule> for ScheduleDocument {
    fn from(schedule: &Schedule) -> Self {
        Self {
            name: schedule.name.clone(),
            version: schedule.version,
            kind: schedule.kind.as_str().to_owned(),
            max_lateness: friendly_duration(schedule.max_lateness),
            replaces_through_day: schedule.replaces_through_day,
            steps: schedule
                .steps
                .iter()
                .map(|step| StepDocument {
                    id: step.id.clone(),
                    day: step.day,
                    at: step.at.map(|time| time.strftime("%H:%M").to_string()),
                    template: step.template.clone(),
                    window: step
                        .window
                        .map(|w| format!("{}-{}", w.start.strftime("%H:%M"), w.end.strftime("%H:%M"))),
                    weekdays_only: step.weekdays_only,
                })
                .collect(),
        }
    }
}

/// `24h` rather than jiff's `PT24H`: the form people write in the schedule files.
fn friendly_duration(duration: SignedDuration) -> String {
    let seconds = duration.as_secs();
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// A schedule file, and for each of its lines the JSON field it came from.
pub struct ScheduleFile {
    pub text: String,
    fields: Vec<String>,
}

impl ScheduleFile {
    /// The JSON field written on `line` (1-based), for naming it in an error.
    pub fn field_at(&self, line: Option<usize>) -> &str {
        line.and_then(|l| l.checked_sub(1))
            .and_then(|index| self.fields.get(index))
            .map_or("steps", String::as_str)
    }
}

impl ScheduleDocument {
    /// The schedule file for this document at `version`, written by `by`.
    pub fn to_file(&self, version: i64, by: &str) -> ScheduleFile {
        let mut file = ScheduleFile {
            text: String::new(),
            fields: Vec::new(),
        };
        let mut line = |text: String, field: &str| {
            file.text.push_str(&text);
            file.text.push('\n');
            file.fields.push(field.to_owned());
        };
        line(
            format!("# Saved by {by}; earlier versions are kept in the database."),
            "name",
        );
        line(format!("version = {version}"), "version");
        line(format!("kind = {}", quoted(&self.kind)), "kind");
        line(format!("max_lateness = {}", quoted(&self.max_lateness)), "max_lateness");
        if let Some(through) = self.replaces_through_day {
            line(format!("replaces_through_day = {through}"), "replaces_through_day");
        }
        for (index, step) in self.steps.iter().enumerate() {
            let at = |field: &str| format!("steps[{index}].{field}");
            line(String::new(), &at("id"));
            line("[[steps]]".into(), &at("id"));
            line(format!("id = {}", quoted(&step.id)), &at("id"));
            line(format!("day = {}", step.day), &at("day"));
            if let Some(time) = &step.at {
                line(format!("at = {}", quoted(time)), &at("at"));
            }
            line(format!("template = {}", quoted(&step.template)), &at("template"));
            if let Some(window) = &step.window {
                line(format!("window = {}", quoted(window)), &at("window"));
            }
            if step.weekdays_only {
                line("weekdays_only = true".into(), &at("weekdays_only"));
            }
        }
        file
    }
}

fn quoted(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> ScheduleDocument {
        ScheduleDocument {
            name: "caring_contacts".into(),
            version: 1,
            kind: "caring_contact".into(),
            max_lateness: "24h".into(),
            replaces_through_day: None,
            steps: vec![
                StepDocument {
                    id: "day_1".into(),
                    day: 1,
                    at: None,
                    template: "caring/first".into(),
                    window: Some("10:00-18:00".into()),
                    weekdays_only: false,
                },
                StepDocument {
                    id: "day_3 \"quoted\"".into(),
                    day: 3,
                    at: Some("18:00".into()),
                    template: "caring/thinking".into(),
                    window: None,
                    weekdays_only: true,
                },
            ],
        }
    }

    #[test]
    fn each_line_of_the_file_names_its_field() {
        let file = document().to_file(2, "alex");
        let lines: Vec<&str> = file.text.lines().collect();
        let day_line = lines.iter().position(|l| *l == "day = 3").unwrap() + 1;
        assert_eq!(file.field_at(Some(day_line)), "steps[1].day");
        let version_line = lines.iter().position(|l| *l == "version = 2").unwrap() + 1;
        assert_eq!(file.field_at(Some(version_line)), "version");
        assert_eq!(file.field_at(None), "steps");
        let parsed: toml::Table = file.text.parse().unwrap();
        assert_eq!(parsed["steps"][1]["id"].as_str(), Some("day_3 \"quoted\""));
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(friendly_duration(SignedDuration::from_hours(24)), "24h");
        assert_eq!(friendly_duration(SignedDuration::from_mins(90)), "90m");
    }
}
