-- A deterministic sqlite3 workload for the no-false-report check
-- (debug.workload.sqlite): tables filled by recursive queries, indexes,
-- joins, grouping, window functions, text functions, updates and deletes.
PRAGMA journal_mode = DELETE;
CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, amount INTEGER, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO customer SELECT i, 'customer-' || i, 'city-' || (i % 37) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
INSERT INTO orders SELECT i, 1 + (i * 7919) % 3000, (i * 104729) % 1000,
       printf('%0*d', 1 + i % 200, i) FROM n;
CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX customer_city ON customer(city);
SELECT count(*), sum(amount), max(length(note)) FROM orders;
SELECT c.city, count(*), sum(o.amount) FROM orders o JOIN customer c ON c.id = o.customer
 GROUP BY c.city ORDER BY sum(o.amount) DESC LIMIT 5;
SELECT name, total, rank FROM (
  SELECT c.name, sum(o.amount) AS total,
         rank() OVER (ORDER BY sum(o.amount) DESC, c.id) AS rank
    FROM customer c JOIN orders o ON o.customer = c.id GROUP BY c.id)
 WHERE rank <= 3;
UPDATE orders SET note = upper(replace(note, '0', 'x')) WHERE amount % 3 = 0;
DELETE FROM orders WHERE amount % 5 = 0;
SELECT count(*), sum(length(note)), sum(amount) FROM orders;
SELECT group_concat(name, ',') FROM (SELECT name FROM customer WHERE id % 500 = 0 ORDER BY id);
CREATE TABLE words AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
  SELECT i, substr(hex(i * 2654435761), 1, 12) AS w FROM n;
SELECT count(DISTINCT w), min(w), max(w) FROM words;
VACUUM;
PRAGMA integrity_check;
