//! The inbox password: hashed with argon2id (the `argon2` crate's default
//! parameters, OWASP's minimum: 19 MiB, 2 passes), verified in constant
//! time, and tagged so that sessions know which password they were signed
//! in under.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password`, with a fresh salt.
pub fn hash(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("argon2 with its default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches the PHC string `hash` (any argon2 variant
/// and parameters the string names). A malformed hash matches nothing.
pub fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A tag of the password hash, stored with each session: a new password
/// (a new hash, with a new salt) gives a new tag, and older sessions no
/// longer load. It says nothing about the password.
pub fn tag(hash: &str) -> String {
    hex::encode(&Sha256::digest(format!("handoff-gate inbox session\0{hash}"))[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery staple");
        assert!(stored.starts_with("$argon2id$v=19$"));
        assert!(verify(&stored, "correct horse battery staple"));
        assert!(!verify(&stored, "correct horse battery stapler"));
        assert!(!verify("not a hash", "correct horse battery staple"));
        let again = hash("correct horse battery staple");
        assert_ne!(stored, again, "a fresh salt each time");
        assert_ne!(tag(&stored), tag(&again));
    }
}
