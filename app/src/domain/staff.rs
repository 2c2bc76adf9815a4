//! The treasury's staff: who they are (a [`Username`]), what they may do
//! (their [`Role`]s: a person may hold several) and what a password must be.
//! Pure rules; hashing and storage live in `crate::staff` and the store.

use std::collections::BTreeSet;

string_enum! {
    /// What a staff member may do. Every staff page, server function and
    /// API route names the roles it admits.
    pub enum Role {
        /// The cashier's window: verify and redeem receipts, take window
        /// payments, open and close a till.
        Cajero = "cajero",
        /// Reviews permit requests; reads reports and the audit trail.
        Revisor = "revisor",
        /// The treasurer: approves cortes and cancellations, reconciles,
        /// exports to accounting, manages tariffs and discounts.
        Tesorero = "tesorero",
        /// Manages staff accounts and roles.
        Admin = "admin",
    }
}

impl Role {
    /// The role's name in Spanish, for pages and messages.
    pub fn label_es(self) -> &'static str {
        match self {
            Role::Cajero => "Cajero(a)",
            Role::Revisor => "Revisor(a)",
            Role::Tesorero => "Tesorero(a)",
            Role::Admin => "Administrador(a)",
        }
    }
}

/// Who may do what: each staff page and route names one of these.
pub mod may {
    use super::Role;

    /// Any staff member: their home, logging out.
    pub const ENTER: &[Role] = &Role::ALL;
    /// Read the audit trail.
    pub const READ_AUDIT: &[Role] = &[Role::Tesorero, Role::Revisor];
    /// Check receipts at the desk.
    pub const VERIFY_RECEIPTS: &[Role] = &[Role::Cajero, Role::Tesorero];
    /// Hand over ("entregar / canjear") a receipt, once.
    pub const REDEEM: &[Role] = &[Role::Cajero];
    /// Manage staff accounts: create, disable, reset, assign roles.
    pub const MANAGE_STAFF: &[Role] = &[Role::Admin];
    /// Work a till: open it with a float, take payments at the window,
    /// count it blind for the corte, explain a difference.
    pub const WORK_TILL: &[Role] = &[Role::Cajero];
    /// See a corte: the cajero of the till, or a tesorero.
    pub const SEE_CORTES: &[Role] = &[Role::Cajero, Role::Tesorero];
    /// Approve a corte with a difference; record a bounced cheque; decide
    /// a receipt's cancellation; download the accounting export.
    pub const TREASURY: &[Role] = &[Role::Tesorero];
    /// Ask for a receipt to be cancelled.
    pub const REQUEST_CANCELLATION: &[Role] = &[Role::Cajero, Role::Tesorero];
    /// Review permit requests: take one, ask for corrections, set a range
    /// tariff's amount, approve, reject; read their documents.
    pub const REVIEW_PERMITS: &[Role] = &[Role::Revisor];
}

/// A set of roles, stored as their names joined by commas (`admin,cajero`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Roles {
        Roles(roles.into_iter().collect())
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// Whether any of `allowed` is held.
    pub fn any_of(&self, allowed: &[Role]) -> bool {
        allowed.iter().any(|r| self.0.contains(r))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// `admin,cajero`: how the store keeps them.
    pub fn to_stored(&self) -> String {
        self.0.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
    }

    /// Reads [`Roles::to_stored`]; `None` on an unknown name.
    pub fn from_stored(s: &str) -> Option<Roles> {
        s.split(',').filter(|p| !p.is_empty()).map(Role::parse).collect::<Option<BTreeSet<_>>>().map(Roles)
    }
}

/// Why a username or password was refused (Spanish, for the operator).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StaffInputError {
    #[error("el usuario debe tener de 3 a 32 caracteres: letras minúsculas sin acento, dígitos, punto, guion o guion bajo, y empezar con una letra")]
    Username,
    #[error("la contraseña debe tener al menos {MIN_PASSWORD_CHARS} caracteres")]
    PasswordTooShort,
    #[error("la contraseña no puede tener más de {MAX_PASSWORD_CHARS} caracteres")]
    PasswordTooLong,
    #[error("la contraseña no puede contener el nombre de usuario")]
    PasswordHasUsername,
    #[error("indique al menos un rol: cajero, revisor, tesorero o admin")]
    NoRole,
    #[error("rol desconocido «{0}»: use cajero, revisor, tesorero o admin")]
    UnknownRole(String),
}

/// The shortest password accepted (NIST SP 800-63B asks at least 8; a
/// treasury's staff get 12).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest (a bound on the hashing work one request can ask for).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A staff member's login name: trimmed, lower case, `[a-z][a-z0-9._-]{2,31}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, StaffInputError> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = (3..=32).contains(&s.len())
            && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
        if ok {
            Ok(Username(s))
        } else {
            Err(StaffInputError::Username)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a new password: long enough, not absurdly long, and not built on
/// the username. (Counted in characters, so accents count once.)
pub fn check_new_password(password: &str, username: &Username) -> Result<(), StaffInputError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(StaffInputError::PasswordTooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(StaffInputError::PasswordTooLong);
    }
    if password.to_lowercase().contains(username.as_str()) {
        return Err(StaffInputError::PasswordHasUsername);
    }
    Ok(())
}

/// Reads role names as typed (`--role cajero --role Tesorero`).
pub fn parse_roles<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Roles, StaffInputError> {
    let mut roles = BTreeSet::new();
    for name in names {
        let n = name.trim().to_lowercase();
        roles.insert(Role::parse(&n).ok_or_else(|| StaffInputError::UnknownRole(name.trim().to_string()))?);
    }
    if roles.is_empty() {
        return Err(StaffInputError::NoRole);
    }
    Ok(Roles(roles))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_case_and_plain() {
        assert_eq!(Username::parse("  Maria.Lopez ").unwrap().as_str(), "maria.lopez");
        assert_eq!(Username::parse("caja_1").unwrap().as_str(), "caja_1");
        for bad in ["ab", "1caja", "maría", "a b c", "", &"x".repeat(33), "caja;drop"] {
            assert_eq!(Username::parse(bad), Err(StaffInputError::Username), "{bad}");
        }
    }

    #[test]
    fn passwords_are_long_and_not_the_username() {
        let u = Username::parse("tesorera").unwrap();
        assert_eq!(check_new_password("corta", &u), Err(StaffInputError::PasswordTooShort));
        assert_eq!(check_new_password("ñandú-ñandú-", &u), Ok(()), "12 characters, whatever their bytes");
        assert_eq!(check_new_password("Tesorera2026!!", &u), Err(StaffInputError::PasswordHasUsername));
        assert_eq!(check_new_password(&"x".repeat(129), &u), Err(StaffInputError::PasswordTooLong));
        assert_eq!(check_new_password("caballo correcto batería grapa", &u), Ok(()));
    }

    #[test]
    fn roles_are_a_set_stored_by_name() {
        let roles = parse_roles(["Tesorero", "cajero", "cajero"]).unwrap();
        assert_eq!(roles.to_stored(), "cajero,tesorero");
        assert_eq!(Roles::from_stored("cajero,tesorero"), Some(roles.clone()));
        assert!(roles.any_of(&[Role::Admin, Role::Tesorero]));
        assert!(!roles.any_of(&[Role::Admin, Role::Revisor]));
        assert_eq!(parse_roles(["jefe"]), Err(StaffInputError::UnknownRole("jefe".into())));
        assert_eq!(parse_roles([]), Err(StaffInputError::NoRole));
        assert_eq!(Roles::from_stored("cajero,jefe"), None);
    }
}
