-- A small order-processing database: enough allocation churn to show the
-- allocator at work (row buffers, index pages, sort buffers, result strings).
CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, amount REAL, note TEXT);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000)
INSERT INTO customer SELECT x, 'customer-' || x, 'city-' || (x % 37) FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 60000)
INSERT INTO orders SELECT x, 1 + (x * 7919) % 2000, (x % 997) * 1.25, printf('order %d of %s', x, hex(x * x))
FROM n;
CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX customer_city ON customer(city);
SELECT c.city, count(*), round(sum(o.amount), 2)
FROM orders o JOIN customer c ON c.id = o.customer
GROUP BY c.city ORDER BY sum(o.amount) DESC LIMIT 5;
SELECT count(DISTINCT note), max(length(note)) FROM orders;
UPDATE orders SET note = note || ' (paid)' WHERE amount > 600;
DELETE FROM orders WHERE id % 3 = 0;
SELECT count(*), round(avg(amount), 3) FROM orders;
