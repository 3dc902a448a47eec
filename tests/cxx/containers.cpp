// Heavy use of standard containers: vector growth, string building,
// map/unordered_map/set churn, shared_ptr graphs, with results computed
// independently and compared.
#include <algorithm>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "testutil.h"

namespace {

void test_vectors()
{
    std::vector<std::uint64_t> v;
    for (std::uint64_t i = 0; i < 2000000; i++)
        v.push_back(i * 3);
    std::uint64_t sum = std::accumulate(v.begin(), v.end(), std::uint64_t(0));
    CHECK(sum == 3ull * (2000000ull * 1999999ull / 2), "vector sum %llu",
          static_cast<unsigned long long>(sum));
    std::vector<std::vector<int>> nested;
    for (int i = 0; i < 5000; i++) {
        nested.emplace_back(static_cast<std::size_t>(i % 97), i);
        if (i % 3 == 0)
            nested[static_cast<std::size_t>(i / 2)].shrink_to_fit();
    }
    long total = 0;
    for (std::size_t i = 0; i < nested.size(); i++)
        for (int x : nested[i]) {
            total += x;
            if (x != static_cast<int>(i)) {
                CHECK(false, "nested vector %zu holds %d", i, x);
                break;
            }
        }
    long expect = 0;
    for (int i = 0; i < 5000; i++)
        expect += static_cast<long>(i % 97) * i;
    CHECK(total == expect, "nested total %ld != %ld", total, expect);
}

void test_strings()
{
    std::string s;
    for (int i = 0; i < 200000; i++)
        s += std::to_string(i % 1000) + ",";
    std::size_t commas = static_cast<std::size_t>(std::count(s.begin(), s.end(), ','));
    CHECK(commas == 200000, "commas %zu", commas);
    std::vector<std::string> words;
    for (int i = 0; i < 100000; i++)
        words.push_back(std::string(static_cast<std::size_t>(i % 50), static_cast<char>('a' + i % 26)) +
                        std::to_string(i));
    std::sort(words.begin(), words.end());
    CHECK(std::is_sorted(words.begin(), words.end()), "words not sorted");
    std::size_t len = 0;
    for (const auto &w : words)
        len += w.size();
    std::size_t expect = 0;
    for (int i = 0; i < 100000; i++)
        expect += static_cast<std::size_t>(i % 50) + std::to_string(i).size();
    CHECK(len == expect, "total word length %zu != %zu", len, expect);
}

void test_maps()
{
    std::map<int, std::string> m;
    std::unordered_map<std::string, int> um;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 60000; i++) {
            m[i * 7 % 100003] = std::to_string(i);
            um[std::to_string(i) + "_k"] = i;
        }
        for (int i = 0; i < 60000; i += 2) {
            m.erase(i * 7 % 100003);
            um.erase(std::to_string(i) + "_k");
        }
    }
    CHECK(m.size() == 30000, "map size %zu", m.size());
    CHECK(um.size() == 30000, "unordered_map size %zu", um.size());
    for (const auto &kv : m) {
        int i = std::stoi(kv.second);
        if (i % 2 != 1 || i * 7 % 100003 != kv.first) {
            CHECK(false, "map entry %d -> %s wrong", kv.first, kv.second.c_str());
            break;
        }
    }
    for (int i = 1; i < 60000; i += 2) {
        auto it = um.find(std::to_string(i) + "_k");
        if (it == um.end() || it->second != i) {
            CHECK(false, "unordered_map lost key %d", i);
            break;
        }
    }
    std::set<std::string> st;
    std::list<std::string> lst;
    for (int i = 0; i < 50000; i++) {
        st.insert(std::to_string(i * 31 % 50000));
        lst.push_front(std::to_string(i));
    }
    CHECK(st.size() == 50000, "set size %zu", st.size());
    lst.sort();
    lst.unique();
    CHECK(lst.size() == 50000, "list size %zu", lst.size());
}

struct Node {
    int id;
    std::vector<std::shared_ptr<Node>> kids;
    explicit Node(int i) : id(i) {}
};

int count_tree(const std::shared_ptr<Node> &n)
{
    int c = 1;
    for (const auto &k : n->kids)
        c += count_tree(k);
    return c;
}

void test_shared_ptr_tree()
{
    for (int round = 0; round < 20; round++) {
        auto root = std::make_shared<Node>(0);
        std::vector<std::shared_ptr<Node>> all{root};
        for (int i = 1; i < 20000; i++) {
            auto n = std::make_shared<Node>(i);
            all[static_cast<std::size_t>((static_cast<unsigned>(i) * 2654435761u) % static_cast<unsigned>(i))]->kids.push_back(n);
            all.push_back(n);
        }
        CHECK(count_tree(root) == 20000, "tree has %d nodes", count_tree(root));
        std::weak_ptr<Node> w = all.back();
        all.clear();
        root.reset();
        CHECK(w.expired(), "tree not freed");
    }
}

} // namespace

int main()
{
    test_begin("cxx_containers");
    test_vectors();
    test_strings();
    test_maps();
    test_shared_ptr_tree();
    return test_finish();
}
