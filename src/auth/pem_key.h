// Keys read from PEM text. Encrypted PEM is refused rather than prompting
// on the terminal (OpenSSL's default when no passphrase callback is given).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "base/result.h"

namespace switchboard::auth {

// Accepts, in this order: a public key ("PUBLIC KEY" SubjectPublicKeyInfo,
// or PKCS#1 "RSA PUBLIC KEY"); an unencrypted private key, of which only
// the public half is kept, so the result can never sign; a certificate,
// whose subject public key is taken (the certificate itself is not
// validated: it is just a container for the pinned key).
// The error says so when none parses.
base::Result<std::shared_ptr<EVP_PKEY>> public_key_from_pem(std::string_view pem);

// An unencrypted private key ("PRIVATE KEY", "RSA PRIVATE KEY",
// "EC PRIVATE KEY"), or an error.
base::Result<std::shared_ptr<EVP_PKEY>> private_key_from_pem(std::string_view pem);

}  // namespace switchboard::auth
