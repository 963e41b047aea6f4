#pragma once
// Result<T>: errors as values at API boundaries (control side only).
// A Result holds either a value or an Error whose message is meant for the
// operator: it names the file, line and what was expected where that applies.

#include <string>
#include <utility>
#include <variant>

namespace sg {

struct Error {
    std::string message;
};

template <class T = std::monostate>
class [[nodiscard]] Result {
public:
    Result() requires std::is_same_v<T, std::monostate> : v_(std::monostate{}) {}
    Result(T value) : v_(std::move(value)) {}                 // NOLINT: implicit by design
    Result(Error error) : v_(std::move(error)) {}             // NOLINT: implicit by design

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

} // namespace sg
