//! What an appointment is for. The kind picks the reminder's wording and offsets and decides whether the
//! appointment counts toward the follow-up figures; it is never said in a text unless the program names it
//! (`named_appointment_kinds` in program.toml).

use std::fmt;

/// The kinds of appointment a case manager books after discharge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentKind {
    #[default]
    ClinicVisit,
    Therapy,
    PharmacyPickup,
    /// A benefits or housing office.
    BenefitsOffice,
    CourtDate,
    Other,
}

impl AppointmentKind {
    pub const ALL: [AppointmentKind; 6] = [
        AppointmentKind::ClinicVisit,
        AppointmentKind::Therapy,
        AppointmentKind::PharmacyPickup,
        AppointmentKind::BenefitsOffice,
        AppointmentKind::CourtDate,
        AppointmentKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentKind::ClinicVisit => "clinic_visit",
            AppointmentKind::Therapy => "therapy",
            AppointmentKind::PharmacyPickup => "pharmacy_pickup",
            AppointmentKind::BenefitsOffice => "benefits_office",
            AppointmentKind::CourtDate => "court_date",
            AppointmentKind::Other => "other",
        }
    }

    /// How staff read the kind in the console (never in a text: templates word it themselves).
    pub fn label(self) -> &'static str {
        match self {
            AppointmentKind::ClinicVisit => "clinic visit",
            AppointmentKind::Therapy => "therapy",
            AppointmentKind::PharmacyPickup => "pharmacy pickup",
            AppointmentKind::BenefitsOffice => "benefits or housing office",
            AppointmentKind::CourtDate => "court date",
            AppointmentKind::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value.trim())
            .ok_or_else(|| {
                format!(
                    "`{value}` is not an appointment kind; expected one of {}",
                    Self::names().join(", ")
                )
            })
    }

    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|kind| kind.as_str()).collect()
    }

    /// The reminder template for this kind. A clinic visit keeps `appointment/reminder`, the file every
    /// earlier release used for all appointments, so a program's edited wording of it stays in use; the
    /// other kinds have files of their own named after the kind.
    pub fn reminder_template(self) -> &'static str {
        match self {
            AppointmentKind::ClinicVisit => "appointment/reminder",
            AppointmentKind::Therapy => "appointment/therapy",
            AppointmentKind::PharmacyPickup => "appointment/pharmacy_pickup",
            AppointmentKind::BenefitsOffice => "appointment/benefits_office",
            AppointmentKind::CourtDate => "appointment/court_date",
            AppointmentKind::Other => "appointment/other",
        }
    }

    /// Every kind's reminder template, which every catalog must have in every language (the tests hold
    /// REQUIRED_TEMPLATES to it).
    #[cfg(test)]
    pub fn reminder_templates() -> [&'static str; 6] {
        Self::ALL.map(AppointmentKind::reminder_template)
    }
}

impl fmt::Display for AppointmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in AppointmentKind::ALL {
            assert_eq!(AppointmentKind::parse(kind.as_str()), Ok(kind));
        }
    }

    #[test]
    fn an_unknown_kind_is_refused_with_the_kinds_there_are() {
        let message = AppointmentKind::parse("court").unwrap_err();
        assert!(message.contains("`court`"), "{message}");
        assert!(message.contains("court_date"), "{message}");
    }

    #[test]
    fn each_kind_has_its_own_template() {
        let mut templates = AppointmentKind::reminder_templates().to_vec();
        templates.sort_unstable();
        templates.dedup();
        assert_eq!(templates.len(), AppointmentKind::ALL.len());
    }
}
