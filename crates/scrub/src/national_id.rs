//! National personal identifiers by country: their formats and check
//! digits. A number is an identifier by its format and its context, never
//! because it has so many digits: formats distinctive enough to stand alone
//! (an Italian codice fiscale, a Finnish HETU, a Swiss AHV number) are found
//! anywhere; the others (a Dutch BSN, a Polish PESEL: plain digit runs) only
//! after a word that names them, and then only if their check digits hold.

use crate::validate::{all_same, digits, luhn};

/// Whether `value` is an identifier in a format distinctive enough to be
/// found without a cue word: its shape and check digits leave no doubt.
pub fn distinctive(value: &str) -> bool {
    let v = value.trim();
    codice_fiscale(v)
        || curp(v)
        || spanish_dni(v)
        || finnish_hetu(v)
        || czech_rodne_cislo(v, true)
        || swedish_personnummer(v, true)
        || swiss_ahv(v)
        || french_nir(v, true)
        || brazilian_cpf(v, true)
        || irish_ppsn(v)
        || indian_pan(v)
}

/// Whether `value` is an identifier of any known format with valid check
/// digits, written with or without separators (for a short or ambiguous
/// cue word such as "CF", "PAN" or "SIN").
pub fn checked(value: &str) -> bool {
    let v = value.trim();
    let d = digits(v);
    distinctive(v)
        || czech_rodne_cislo(v, false)
        || swedish_personnummer(v, false)
        || french_nir(v, false)
        || brazilian_cpf(v, false)
        || (only_digits(v)
            && (dutch_bsn(&d)
                || polish_pesel(&d)
                || turkish_kimlik(&d)
                || norwegian_fodselsnummer(&d)
                || german_steuer_id(&d)
                || austrian_sv(&d)
                || portuguese_nif(&d)
                || australian_tfn(&d)
                || canadian_sin(&d)
                || aadhaar(&d)))
}

/// Whether `value`, after a word that names an identifier ("BSN",
/// "personnummer", "Steuer-ID"), can be one: a known format, or six or more
/// digits with few letters (formats the checks above do not know, such as a
/// Danish CPR number or a passport number).
pub fn plausible(value: &str) -> bool {
    let v = value.trim();
    let digit_count = v.bytes().filter(u8::is_ascii_digit).count();
    let letters = v.bytes().filter(u8::is_ascii_alphabetic).count();
    checked(v)
        || (digit_count >= 6 && letters <= 3)
        || (digit_count >= 5 && (1..=4).contains(&letters))
}

/// Digits with at most spaces, dots, dashes or slashes between them.
fn only_digits(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'.' | b'-' | b'/'))
}

/// A calendar day given as day and month (any year).
fn day_month(day: u32, month: u32) -> bool {
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

fn number(d: &[u8]) -> u32 {
    d.iter().fold(0, |n, &x| n * 10 + u32::from(x))
}

/// Sum of `d[i] * weights[i]`.
fn weighted(d: &[u8], weights: &[u32]) -> u32 {
    d.iter().zip(weights).map(|(&x, w)| u32::from(x) * w).sum()
}

/// Italian codice fiscale: 6 letters, 2 digits, month letter, 2 digits,
/// letter, 3 digits, check letter (odd/even position tables).
fn codice_fiscale(v: &str) -> bool {
    let b: Vec<u8> = v.bytes().map(|b| b.to_ascii_uppercase()).collect();
    if b.len() != 16 {
        return false;
    }
    let letter = |i: usize| b[i].is_ascii_uppercase();
    // Omocodia replaces digits by letters (LMNPQRSTUV); accept both.
    let digitish = |i: usize| b[i].is_ascii_digit() || b"LMNPQRSTUV".contains(&b[i]);
    let shape = (0..6).all(letter)
        && digitish(6)
        && digitish(7)
        && b"ABCDEHLMPRST".contains(&b[8])
        && digitish(9)
        && digitish(10)
        && letter(11)
        && (12..15).all(digitish)
        && letter(15);
    if !shape {
        return false;
    }
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let value = |c: u8| -> usize {
        if c.is_ascii_digit() {
            usize::from(c - b'0')
        } else {
            usize::from(c - b'A')
        }
    };
    let sum: u32 = b[..15]
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let k = value(c);
            if i % 2 == 0 { ODD[k] } else { k as u32 }
        })
        .sum();
    u32::from(b[15] - b'A') == sum % 26
}

/// Mexican CURP: 4 letters, birth date, H/M, 5 letters, a character and a
/// check digit.
fn curp(v: &str) -> bool {
    let b: Vec<u8> = v.bytes().map(|b| b.to_ascii_uppercase()).collect();
    if b.len() != 18 {
        return false;
    }
    let shape = b[..4].iter().all(u8::is_ascii_uppercase)
        && b[4..10].iter().all(u8::is_ascii_digit)
        && matches!(b[10], b'H' | b'M' | b'X')
        && b[11..16].iter().all(u8::is_ascii_uppercase)
        && b[16].is_ascii_alphanumeric()
        && b[17].is_ascii_digit();
    if !shape || !day_month(number(&digits(v)[4..6]), number(&digits(v)[2..4])) {
        return false;
    }
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ";
    let sum: usize = b[..17]
        .iter()
        .enumerate()
        .map(|(i, c)| ALPHABET.iter().position(|a| a == c).unwrap_or(0) * (18 - i))
        .sum();
    usize::from(b[17] - b'0') == (10 - sum % 10) % 10
}

/// Spanish DNI (8 digits and a letter) or NIE (X, Y or Z, 7 digits, a
/// letter): the letter is the number mod 23.
fn spanish_dni(v: &str) -> bool {
    let b: Vec<u8> = v
        .bytes()
        .filter(|b| *b != b'-' && *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if b.len() != 9 || !b[8].is_ascii_uppercase() {
        return false;
    }
    let lead = match b[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        d if d.is_ascii_digit() => u32::from(d - b'0'),
        _ => return false,
    };
    if !b[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = b[1..8]
        .iter()
        .fold(lead, |n, &d| n * 10 + u32::from(d - b'0'));
    b"TRWAGMYFPDXBNJZSQVHLCKE"[(n % 23) as usize] == b[8]
}

/// Finnish HETU: DDMMYY, a century mark, three digits, a check character.
fn finnish_hetu(v: &str) -> bool {
    let b: Vec<u8> = v.bytes().map(|b| b.to_ascii_uppercase()).collect();
    if b.len() != 11
        || !b[..6].iter().all(u8::is_ascii_digit)
        || !b"-+ABCDEFUVWXY".contains(&b[6])
        || !b[7..10].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let d = digits(&v[..6]);
    if !day_month(number(&d[0..2]), number(&d[2..4])) {
        return false;
    }
    let n = number(&d) * 1000 + number(&digits(&v[7..10]));
    b"0123456789ABCDEFHJKLMNPRSTUVWXY"[(n % 31) as usize] == b[10]
}

/// Czech or Slovak rodné číslo: YYMMDD/NNNN (NNN before 1954), the month
/// raised by 50 for women; the ten digits are divisible by 11. Written with
/// its slash when `slashed`.
fn czech_rodne_cislo(v: &str, slashed: bool) -> bool {
    let has_slash = v.as_bytes().get(6) == Some(&b'/');
    let shape_ok = v
        .bytes()
        .enumerate()
        .all(|(i, b)| b.is_ascii_digit() || (i == 6 && b == b'/'));
    if (slashed && !has_slash) || !shape_ok {
        return false;
    }
    let d = digits(v);
    if !(9..=10).contains(&d.len()) || !day_month(number(&d[4..6]), number(&d[2..4]) % 50 % 20) {
        return false;
    }
    if d.len() == 9 {
        // No check digit before 1954; only the written form is distinctive.
        return has_slash;
    }
    let n = d.iter().fold(0u64, |n, &x| n * 10 + u64::from(x));
    n % 11 == 0 || (u64::from(number(&d[..9])) % 11 == 10 && d[9] == 0)
}

/// Swedish personnummer: (YY)YYMMDD-NNNN, Luhn over the last ten digits.
fn swedish_personnummer(v: &str, dashed: bool) -> bool {
    let has_dash = v.contains(['-', '+']);
    if dashed && !has_dash {
        return false;
    }
    if !v
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
    {
        return false;
    }
    let d = digits(v);
    let ten = match d.len() {
        10 => &d[..],
        12 => &d[2..],
        _ => return false,
    };
    day_month(number(&ten[4..6]) % 60, number(&ten[2..4])) && luhn(ten) && !all_same(ten)
}

/// Swiss AHV/AVS number: 756.NNNN.NNNN.NN with an EAN-13 check digit.
fn swiss_ahv(v: &str) -> bool {
    let d = digits(v);
    if d.len() != 13 || !v.starts_with("756") || !only_digits(v) {
        return false;
    }
    let sum: u32 = d[..12]
        .iter()
        .enumerate()
        .map(|(i, &x)| u32::from(x) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    (10 - sum % 10) % 10 == u32::from(d[12])
}

/// French NIR (numéro de sécurité sociale): sex, year, month, place, order
/// and a two-digit key, 97 minus the number mod 97. Written with spaces when
/// `spaced`.
fn french_nir(v: &str, spaced: bool) -> bool {
    if spaced && !v.contains(' ') {
        return false;
    }
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    let upper = compact.to_ascii_uppercase();
    // Corsica: département 2A / 2B count as 19 / 18 in the key.
    let numeric = match upper.get(5..7) {
        Some("2A") => format!("{}19{}", &upper[..5], &upper[7..]),
        Some("2B") => format!("{}18{}", &upper[..5], &upper[7..]),
        _ => upper,
    };
    if numeric.len() != 15 || !numeric.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let d = digits(&numeric);
    let month = number(&d[3..5]);
    if !matches!(d[0], 1 | 2 | 3 | 4 | 7 | 8) || !((1..=12).contains(&month) || month >= 20) {
        return false;
    }
    let n: u64 = d[..13].iter().fold(0, |n, &x| n * 10 + u64::from(x));
    97 - n % 97 == u64::from(number(&d[13..]))
}

/// Brazilian CPF: 11 digits with two mod-11 check digits; written
/// NNN.NNN.NNN-NN when `formatted`.
fn brazilian_cpf(v: &str, formatted: bool) -> bool {
    let shaped = v.len() == 14
        && v.as_bytes()[3] == b'.'
        && v.as_bytes()[7] == b'.'
        && v.as_bytes()[11] == b'-';
    if formatted && !shaped {
        return false;
    }
    let d = digits(v);
    if d.len() != 11 || all_same(&d) || !only_digits(v) {
        return false;
    }
    let check = |len: usize| {
        let sum: u32 = d[..len]
            .iter()
            .enumerate()
            .map(|(i, &x)| u32::from(x) * (len as u32 + 1 - i as u32))
            .sum();
        let r = sum * 10 % 11;
        (if r == 10 { 0 } else { r }) == u32::from(d[len])
    };
    check(9) && check(10)
}

/// Irish PPSN: seven digits, a check letter, and an optional second letter.
fn irish_ppsn(v: &str) -> bool {
    let b: Vec<u8> = v.bytes().map(|b| b.to_ascii_uppercase()).collect();
    if !(8..=9).contains(&b.len())
        || !b[..7].iter().all(u8::is_ascii_digit)
        || !b[7].is_ascii_uppercase()
        || b.get(8).is_some_and(|c| !c.is_ascii_uppercase())
    {
        return false;
    }
    let d = digits(v);
    let second = b.get(8).map_or(0, |&c| {
        if c == b'W' {
            0
        } else {
            u32::from(c - b'A') + 1
        }
    });
    let sum = weighted(&d, &[8, 7, 6, 5, 4, 3, 2]) + second * 9;
    let check = match sum % 23 {
        0 => b'W',
        r => b'A' + r as u8 - 1,
    };
    check == b[7]
}

/// Indian PAN: five letters (the fourth the holder type), four digits, a letter.
fn indian_pan(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b[..5].iter().all(u8::is_ascii_uppercase)
        && b"PCHFATBLJG".contains(&b[3])
        && b[5..9].iter().all(u8::is_ascii_digit)
        && b[9].is_ascii_uppercase()
}

/// Dutch BSN: nine digits passing the eleven test.
fn dutch_bsn(d: &[u8]) -> bool {
    if d.len() != 9 || all_same(d) {
        return false;
    }
    let sum = weighted(&d[..8], &[9, 8, 7, 6, 5, 4, 3, 2]) as i64 - i64::from(d[8]);
    sum % 11 == 0 && sum > 0
}

/// Polish PESEL: eleven digits, a birth date, weights 1-3-7-9.
fn polish_pesel(d: &[u8]) -> bool {
    if d.len() != 11 || all_same(d) || !day_month(number(&d[4..6]), number(&d[2..4]) % 20) {
        return false;
    }
    let sum = weighted(&d[..10], &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]);
    (10 - sum % 10) % 10 == u32::from(d[10])
}

/// Turkish T.C. Kimlik No: eleven digits, two check digits.
fn turkish_kimlik(d: &[u8]) -> bool {
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let odd: u32 = [0, 2, 4, 6, 8].iter().map(|&i| u32::from(d[i])).sum();
    let even: u32 = [1, 3, 5, 7].iter().map(|&i| u32::from(d[i])).sum();
    let tenth = (odd * 7 + 100 - even) % 10;
    let eleventh: u32 = d[..10].iter().map(|&x| u32::from(x)).sum::<u32>() % 10;
    tenth == u32::from(d[9]) && eleventh == u32::from(d[10])
}

/// Norwegian fødselsnummer: DDMMYY, three digits and two mod-11 checks.
fn norwegian_fodselsnummer(d: &[u8]) -> bool {
    if d.len() != 11 || !day_month(number(&d[0..2]) % 40, number(&d[2..4]) % 40) {
        return false;
    }
    let k = |weights: &[u32], len: usize| {
        let r = 11 - weighted(&d[..len], weights) % 11;
        let r = if r == 11 { 0 } else { r };
        r != 10 && r == u32::from(d[len])
    };
    k(&[3, 7, 6, 1, 8, 9, 4, 5, 2], 9) && k(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2], 10)
}

/// German Steuer-ID: eleven digits, the first not zero, ISO 7064 MOD 11,10.
fn german_steuer_id(d: &[u8]) -> bool {
    if d.len() != 11 || d[0] == 0 || all_same(d) {
        return false;
    }
    let mut product = 10;
    for &x in &d[..10] {
        let mut sum = (u32::from(x) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = sum * 2 % 11;
    }
    let check = (11 - product) % 10;
    check == u32::from(d[10])
}

/// Austrian Sozialversicherungsnummer: ten digits, the fourth a check digit.
fn austrian_sv(d: &[u8]) -> bool {
    if d.len() != 10 || d[0] == 0 {
        return false;
    }
    let sum = weighted(&d[..3], &[3, 7, 9]) + weighted(&d[4..], &[5, 8, 4, 2, 1, 6]);
    sum % 11 == u32::from(d[3]) && day_month(number(&d[4..6]), number(&d[6..8]))
}

/// Portuguese NIF: nine digits, a mod-11 check digit.
fn portuguese_nif(d: &[u8]) -> bool {
    if d.len() != 9 || !matches!(d[0], 1 | 2 | 3 | 5 | 6 | 8 | 9) {
        return false;
    }
    let r = 11 - weighted(&d[..8], &[9, 8, 7, 6, 5, 4, 3, 2]) % 11;
    (if r >= 10 { 0 } else { r }) == u32::from(d[8])
}

/// Australian TFN: eight or nine digits, a weighted sum divisible by 11.
fn australian_tfn(d: &[u8]) -> bool {
    match d.len() {
        9 => weighted(d, &[1, 4, 3, 7, 5, 8, 6, 9, 10]).is_multiple_of(11),
        8 => weighted(d, &[10, 7, 8, 4, 6, 3, 5, 1]).is_multiple_of(11),
        _ => false,
    }
}

/// Canadian SIN: nine digits passing Luhn.
fn canadian_sin(d: &[u8]) -> bool {
    d.len() == 9 && d[0] != 0 && !all_same(d) && luhn(d)
}

/// Indian Aadhaar: twelve digits, not starting 0 or 1, Verhoeff check.
fn aadhaar(d: &[u8]) -> bool {
    const MUL: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const PERM: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    if d.len() != 12 || d[0] < 2 {
        return false;
    }
    let c = d.iter().rev().enumerate().fold(0u8, |c, (i, &x)| {
        MUL[usize::from(c)][usize::from(PERM[i % 8][usize::from(x)])]
    });
    c == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinctive_formats_with_their_check_digits() {
        for id in [
            "RSSMRA85T10A562S",      // codice fiscale
            "BOXW310820HNERXN09",    // CURP
            "12345678Z",             // DNI
            "X1234567L",             // NIE
            "131052-308T",           // HETU
            "736028/5163",           // rodné číslo
            "811228-9874",           // personnummer
            "756.9217.0769.85",      // AHV
            "1 84 12 76 451 089 46", // NIR
            "111.444.777-35",        // CPF
            "1234567T",              // PPSN
            "ABCPE1234F",            // PAN
        ] {
            assert!(distinctive(id), "{id}");
        }
        for not in [
            "12345678A",
            "131052-308U",
            "111.444.777-36",
            "756.9217.0769.84",
            "20240315",
        ] {
            assert!(!distinctive(not), "{not}");
        }
    }

    #[test]
    fn digit_formats_need_their_checks() {
        for id in [
            "111222333",   // BSN
            "44051401359", // PESEL
            "10000000146", // TC Kimlik
            "01010012356", // fødselsnummer
            "65929970489", // Steuer-ID
            "1237010180",  // SV-Nummer
            "123456789",   // NIF
            "876543210",   // TFN
            "130692544",   // SIN
            "234123412346",
        ] {
            assert!(checked(id), "{id}");
        }
        assert!(!checked("345678912"));
        assert!(plausible("2601823768"));
        assert!(!plausible("12345"));
    }
}
