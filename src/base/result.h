// A value or the reason there is none: what a function that can fail
// returns instead of filling a `std::string* error` out-parameter or
// returning a string where "" means success. Modelled on C++23's
// std::expected<T, std::string>, which GCC 12's libstdc++ (Debian 12) does
// not ship.
//
//   base::Result<Endpoint> parse(std::string_view url);
//   if (auto endpoint = parse(url); !endpoint) return base::Error(endpoint.error());
//   else use(*endpoint);
//
// The error is one line of text for a person (a log line, a refusal at
// startup); where a caller must tell failures apart, a typed error enum is
// the better tool. Nothing here throws: asking an error for its value, or a
// value for its error, is a bug and aborts. [[nodiscard]]: a result that is
// ignored is a failure that is ignored.
#pragma once

#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace switchboard::base {

// Why an operation failed. Its own type, so that a Result<std::string> can
// tell a value from an error.
class Error {
 public:
  explicit Error(std::string message) : message_(std::move(message)) {}
  const std::string& message() const& { return message_; }
  std::string&& message() && { return std::move(message_); }

 private:
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T> && !std::is_same_v<std::remove_cv_t<T>, Error>,
                "Result holds a value by value, and never an Error as its value");

 public:
  using value_type = T;

  // Implicit both ways, so that `return value;` and `return Error(...);`
  // read like the function's two outcomes.
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, Result> &&
           !std::is_same_v<std::remove_cvref_t<U>, Error> && !std::is_same_v<std::remove_cvref_t<U>, T>)
      Result(U&& value)
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  bool has_value() const { return ok(); }  // std::expected's name
  explicit operator bool() const { return ok(); }

  T& value() & { return *checked_value(); }
  const T& value() const& { return *checked_value(); }
  T&& value() && { return std::move(*checked_value()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*checked_value()); }
  T* operator->() { return checked_value(); }
  const T* operator->() const { return checked_value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  const std::string& error() const { return checked_error()->message(); }

 private:
  T* checked_value() {
    T* value = std::get_if<0>(&state_);
    if (value == nullptr) std::abort();  // a failed result has no value
    return value;
  }
  const T* checked_value() const { return const_cast<Result*>(this)->checked_value(); }
  const Error* checked_error() const {
    const Error* error = std::get_if<1>(&state_);
    if (error == nullptr) std::abort();  // a successful result has no error
    return error;
  }

  std::variant<T, Error> state_;
};

// Success with nothing to return: `return {};` or `return Error(...)`.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }

  const std::string& error() const {
    if (!failed_) std::abort();  // a successful result has no error
    return error_.message();
  }

 private:
  Error error_{std::string()};
  bool failed_ = false;
};

}  // namespace switchboard::base
