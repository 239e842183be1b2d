// SPDX-License-Identifier: Apache-2.0
//
// An allocator whose value-less construct() default-initializes: `resize(n)` of a vector of ids
// then leaves the new ids unwritten instead of zeroing them, for buffers whose every element is
// written right after (a model batch's cells). Zeroing them first doubled the memory traffic of
// the padding.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// `std::allocator<T>` but for `construct(p)` with no arguments, which default-initializes.
///
/// Example: `std::vector<std::uint32_t, detail::default_init_allocator<std::uint32_t>> v; v.resize(n);`
template <class T>
class default_init_allocator : public std::allocator<T> {
public:
    using value_type = T;
    template <class U>
    struct rebind {
        using other = default_init_allocator<U>;
    };

    default_init_allocator() noexcept = default;
    template <class U>
    default_init_allocator(const default_init_allocator<U>&) noexcept {}

    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible<U>::value) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

template <class T, class U>
bool operator==(const default_init_allocator<T>&, const default_init_allocator<U>&) noexcept {
    return true;
}
template <class T, class U>
bool operator!=(const default_init_allocator<T>&, const default_init_allocator<U>&) noexcept {
    return false;
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
