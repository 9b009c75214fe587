-- Shared by the measure queries (engine.run creates them, as temporary macros, before each query).
-- anni_finestra: the window of each year: 1 Jan .. 31 Dec, or 1 Jan .. as_of for the year to date.
CREATE OR REPLACE TEMP MACRO anni_finestra(anni, as_of) AS TABLE
    SELECT a AS anno, make_date(a, 1, 1) AS d0, least(make_date(a, 12, 31), as_of::DATE) AS d1
    FROM unnest(anni::INTEGER[]) AS t(a);
-- evento_in_anno: whether a record has the event in the window d0 .. d1:
-- 'attivo' (started by d1 and not ended before d0), 'inizio' (started in it), 'fine' (ended in it).
CREATE OR REPLACE TEMP MACRO evento_in_anno(evento, inizio, fine, d0, d1) AS CASE evento::VARCHAR
    WHEN 'attivo' THEN inizio <= d1 AND (fine IS NULL OR fine >= d0)
    WHEN 'inizio' THEN inizio BETWEEN d0 AND d1
    WHEN 'fine' THEN fine BETWEEN d0 AND d1
    ELSE false END;
