-- distinct_units_rate: for every measure of $misure at once (one scan of the records instead of one per
-- indicator), the distinct persons or households (the integer keys of their pseudonyms, etl/person_keys.py)
-- with one of the measure's interventions, per year, counted once per comune, sub-ambito and ambito.
-- `_records_distinct_units_rate.sql` is the same count for one measure by the pseudonyms (a warehouse whose
-- records lack keys).
-- $misure: a list of {misura (its position, an integer: faster to group by than text), interventi, evento,
-- per_nucleo, eta_min, eta_max}; $interventi: every intervention of them (this filter reaches the table scan,
-- with the years).
-- evento: 'attivo' (data_inizio <= end of window and (data_fine null or >= 1 Jan)),
--         'inizio' (data_inizio in the year), 'fine' (data_fine in the year).
-- Years and events: the macros of _macros.sql.
-- Age on 31 December = anno - anno_nascita; eta_min / eta_max NULL = no bound.
-- per_nucleo: count households (nucleo_key, negated, else the person's key) instead of persons.
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
misure AS (  -- one row per measure and intervention
    SELECT m.misura, unnest(m.interventi::VARCHAR[]) AS intervento, m.evento, m.per_nucleo,
           m.eta_min::INTEGER AS eta_min, m.eta_max::INTEGER AS eta_max
    FROM (SELECT unnest($misure) AS m)
),
-- the distinct units per measure, year and comune (with its sub-ambito: a comune is in one), then per
-- sub-ambito from those, then the ambito: each count reads the smaller set before it. (Measured in Lombardia,
-- 5 million records: joining the sub-ambiti to the records costs less than joining them to the distinct
-- units, where DuckDB builds its hash table on the larger side: 4,6 s against 7,2 s.)
righe AS MATERIALIZED (
    SELECT DISTINCT m.misura, a.anno, p.comune, s.sub_ambito,
           CASE WHEN m.per_nucleo AND p.nucleo_key IS NOT NULL THEN -p.nucleo_key ELSE p.persona_key END AS unita
    FROM prestazioni AS p
    JOIN misure AS m ON m.intervento = p.intervento
    LEFT JOIN sub_ambiti AS s ON s.comune = p.comune
    JOIN anni AS a ON evento_in_anno(m.evento, p.data_inizio, p.data_fine, a.d0, a.d1)
    WHERE list_contains($interventi::VARCHAR[], p.intervento)
      AND p.data_inizio <= make_date(list_max($anni::INTEGER[]), 12, 31)
      AND (p.data_fine IS NULL OR p.data_fine >= make_date(list_min($anni::INTEGER[]), 1, 1))
      AND (m.eta_min IS NULL OR a.anno - p.anno_nascita >= m.eta_min)
      AND (m.eta_max IS NULL OR a.anno - p.anno_nascita <= m.eta_max)
),
per_sub AS MATERIALIZED (
    SELECT DISTINCT misura, anno, sub_ambito, unita FROM righe
)
SELECT misura, anno, 'comune' AS livello, comune AS territorio, count(*)::DOUBLE AS numeratore
FROM righe GROUP BY misura, anno, comune
UNION ALL
SELECT misura, anno, 'sub_ambito', sub_ambito, count(*)::DOUBLE FROM per_sub GROUP BY misura, anno, sub_ambito
UNION ALL
SELECT misura, anno, 'ambito', 'AMBITO', count(DISTINCT unita)::DOUBLE FROM per_sub GROUP BY misura, anno
