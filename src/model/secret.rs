//! The names of the secret fields a store holds.

/// The secret fields authsome stores, each in its own `<field>.age` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretField {
    /// An API key or personal token.
    ApiKey,
    /// An OAuth2 access token.
    AccessToken,
    /// An OAuth2 refresh token.
    RefreshToken,
    /// An OAuth2 client secret (provider-level, shared by the provider's connections).
    ClientSecret,
}

impl SecretField {
    /// The secret fields a connection can hold.
    pub const OF_CONNECTIONS: [SecretField; 3] = [
        SecretField::ApiKey,
        SecretField::AccessToken,
        SecretField::RefreshToken,
    ];

    /// The field's name: in the record's `secrets`, and as its file name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SecretField::ApiKey => "api_key",
            SecretField::AccessToken => "access_token",
            SecretField::RefreshToken => "refresh_token",
            SecretField::ClientSecret => "client_secret",
        }
    }
}

impl std::fmt::Display for SecretField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
