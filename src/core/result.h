// Result<T>: a value or an Error carrying one line for the user. Errors are values, not
// exceptions (C++20 has no std::expected; this is the subset the project needs).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace procsentry {

struct Error {
  std::string message;  // one line: what is wrong and, where known, what to do
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

struct Ok {};  // Result<Ok>: success carries nothing

}  // namespace procsentry
