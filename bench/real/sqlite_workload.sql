-- Allocation-heavy SQLite workload for the allocator benchmarks.
-- bench/run.py runs it on an in-memory database:
--   sqlite3 -batch :memory: -cmd ".parameter set @n ROWS" \
--            ".read bench/real/sqlite_workload.sql"
-- @n is the number of rows.  The output must not depend on the allocator.

CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, payload TEXT, price REAL);
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);

WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < @n)
INSERT INTO item
SELECT i,
       (i * 7919) % 1000,
       printf('item-%08x', (i * 2654435761) % 4294967296),
       printf('%s%0*d', hex(i * 31), 20 + i % 180, i),
       ((i * 37) % 10000) / 100.0
FROM r;

WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < 999)
INSERT INTO grp SELECT i, printf('group %d/%s', i, hex(i * i)) FROM r;

CREATE INDEX item_grp ON item(grp, price);
CREATE INDEX item_name ON item(name);

SELECT 'groups', grp, count(*), round(sum(price), 2), max(length(payload))
FROM item GROUP BY grp ORDER BY sum(price) DESC, grp LIMIT 5;

SELECT 'join', count(*), round(sum(i.price), 2)
FROM item i JOIN grp g ON i.grp = g.id WHERE g.label LIKE '%7%';

UPDATE item SET payload = payload || name || payload WHERE id % 3 = 0;
DELETE FROM item WHERE grp % 10 = 0;

SELECT 'concat', length(group_concat(name, ',')) FROM item WHERE id % 7 = 0;

SELECT 'sorted', name, length(payload) FROM item ORDER BY payload DESC, id LIMIT 3;

SELECT 'distinct', count(DISTINCT substr(payload, 1, 5)) FROM item;

SELECT 'window', round(sum(dev * dev), 2)
FROM (SELECT price - avg(price) OVER (PARTITION BY grp) AS dev FROM item);

SELECT 'lookup', count(*)
FROM item a JOIN item b ON b.name = printf('item-%08x', ((a.id + 1) * 2654435761) % 4294967296)
WHERE a.id % 5 = 0;

CREATE TABLE summary AS
SELECT grp, count(*) AS n, group_concat(substr(name, 6), '') AS names FROM item GROUP BY grp;
SELECT 'summary', count(*), sum(n), sum(length(names)) FROM summary;

DROP INDEX item_name;
DELETE FROM item WHERE id % 2 = 0;
SELECT 'final', count(*), round(sum(price), 2), sum(length(payload)) FROM item;
