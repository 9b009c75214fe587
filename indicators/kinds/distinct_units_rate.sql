-- distinct_units_rate: distinct persons or households (the integer keys of their pseudonyms, etl/person_keys.py)
-- with one of $interventi, per year, counted once per comune, sub-ambito and ambito.
-- `_records_distinct_units_rate.sql` is the same count by the pseudonyms (a warehouse whose records lack keys).
-- The scan reads only the records of $interventi that can touch the years (the filters reach the table scan).
-- $evento: 'attivo' (data_inizio <= end of window and (data_fine null or >= 1 Jan)),
--          'inizio' (data_inizio in the year), 'fine' (data_fine in the year).
-- Years and events: the macros of _macros.sql.
-- Age on 31 December = anno - anno_nascita; $eta_min / $eta_max NULL = no bound.
-- $per_nucleo: count households (nucleo_key, negated, else the person's key) instead of persons.
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
-- the distinct units per year and comune, then per year and sub-ambito (a comune is in one sub-ambito):
-- each count reads the smaller set before it, and the sub-ambiti are joined to it, not to the records
righe AS MATERIALIZED (
    SELECT DISTINCT a.anno, p.comune,
           CASE WHEN $per_nucleo::BOOLEAN AND p.nucleo_key IS NOT NULL THEN -p.nucleo_key
                ELSE p.persona_key END AS unita
    FROM prestazioni AS p
    JOIN anni AS a ON evento_in_anno($evento::VARCHAR, p.data_inizio, p.data_fine, a.d0, a.d1)
    WHERE list_contains($interventi::VARCHAR[], p.intervento)
      AND p.data_inizio <= make_date(list_max($anni::INTEGER[]), 12, 31)
      AND (p.data_fine IS NULL OR p.data_fine >= make_date(list_min($anni::INTEGER[]), 1, 1))
      AND ($eta_min::INTEGER IS NULL OR a.anno - p.anno_nascita >= $eta_min::INTEGER)
      AND ($eta_max::INTEGER IS NULL OR a.anno - p.anno_nascita <= $eta_max::INTEGER)
),
per_sub AS MATERIALIZED (
    SELECT DISTINCT r.anno, s.sub_ambito, r.unita FROM righe AS r LEFT JOIN sub_ambiti AS s ON s.comune = r.comune
)
SELECT anno, 'comune' AS livello, comune AS territorio, count(*)::DOUBLE AS numeratore FROM righe GROUP BY anno, comune
UNION ALL
SELECT anno, 'sub_ambito', sub_ambito, count(*)::DOUBLE FROM per_sub GROUP BY anno, sub_ambito
UNION ALL
SELECT anno, 'ambito', 'AMBITO', count(DISTINCT unita)::DOUBLE FROM per_sub GROUP BY anno
