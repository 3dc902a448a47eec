-- A deterministic SQL workload: tables, thousands of rows, indexes,
-- joins, aggregates, window functions, updates and deletes.
PRAGMA journal_mode = DELETE;
CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL);
CREATE TABLE product (id INTEGER PRIMARY KEY, title TEXT NOT NULL, price REAL NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customer(id),
                     product_id INTEGER NOT NULL REFERENCES product(id), qty INTEGER NOT NULL,
                     note TEXT);

BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
INSERT INTO customer SELECT i, printf('customer-%05d', i),
       CASE i % 7 WHEN 0 THEN 'Oslo' WHEN 1 THEN 'Lima' WHEN 2 THEN 'Kyiv' WHEN 3 THEN 'Pune'
                  WHEN 4 THEN 'Bern' WHEN 5 THEN 'Riga' ELSE 'Doha' END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 800)
INSERT INTO product SELECT i, printf('product %d %s', i, substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26, 5)),
       round(((i * 37) % 1000) / 10.0 + 0.99, 2) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
INSERT INTO orders SELECT i, 1 + (i * 7919) % 5000, 1 + (i * 104729) % 800, 1 + i % 9,
       CASE WHEN i % 5 = 0 THEN printf('%.*c', 20 + i % 200, 'n') END FROM n;
COMMIT;

CREATE INDEX orders_customer ON orders(customer_id);
CREATE INDEX orders_product ON orders(product_id, qty);
CREATE INDEX customer_city ON customer(city, name);

SELECT count(*), sum(qty), total(length(note)) FROM orders;

SELECT c.city, count(*) AS n, round(sum(o.qty * p.price), 2) AS revenue
FROM orders o JOIN customer c ON c.id = o.customer_id JOIN product p ON p.id = o.product_id
GROUP BY c.city ORDER BY revenue DESC;

SELECT p.title, sum(o.qty) AS units
FROM product p JOIN orders o ON o.product_id = p.id
GROUP BY p.id ORDER BY units DESC, p.id LIMIT 10;

SELECT name, spent, rnk FROM (
  SELECT c.name, round(sum(o.qty * p.price), 2) AS spent,
         rank() OVER (PARTITION BY c.city ORDER BY sum(o.qty * p.price) DESC, c.id) AS rnk
  FROM customer c JOIN orders o ON o.customer_id = c.id JOIN product p ON p.id = o.product_id
  GROUP BY c.id) WHERE rnk <= 2 ORDER BY name;

UPDATE orders SET qty = qty * 2, note = coalesce(note, '') || '-doubled' WHERE id % 3 = 0;
DELETE FROM orders WHERE customer_id % 11 = 0;
SELECT count(*), sum(qty), count(DISTINCT customer_id) FROM orders;

SELECT group_concat(city, ',') FROM (SELECT DISTINCT city FROM customer ORDER BY city);
SELECT hex(zeroblob(8)), upper(substr(group_concat(title, '|'), 1, 60)) FROM product WHERE id < 40;

CREATE TEMP TABLE big AS SELECT o.id, c.name || ':' || p.title || ':' || o.qty AS line
FROM orders o JOIN customer c ON c.id = o.customer_id JOIN product p ON p.id = o.product_id;
SELECT count(*), max(length(line)), min(line), max(line) FROM big;
SELECT line FROM big ORDER BY line DESC LIMIT 5;
PRAGMA integrity_check;
