-- distinct_units_rate: distinct persons or households (pseudonyms) with one of $interventi,
-- per year, counted once per comune, sub-ambito and ambito (GROUPING SETS).
-- $evento: 'attivo' (data_inizio <= end of window and (data_fine null or >= 1 Jan)),
--          'inizio' (data_inizio in the year), 'fine' (data_fine in the year).
-- Years and events: the macros of _macros.sql.
-- Age on 31 December = anno - anno_nascita; $eta_min / $eta_max NULL = no bound.
-- $per_nucleo: count households (nucleo_id, else the person) instead of persons.
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
righe AS (
    SELECT a.anno, p.comune, s.sub_ambito,
           CASE WHEN $per_nucleo::BOOLEAN AND p.nucleo_id IS NOT NULL THEN 'N:' || p.nucleo_id
                ELSE 'P:' || p.persona_id END AS unita
    FROM prestazioni AS p
    JOIN anni AS a ON evento_in_anno($evento::VARCHAR, p.data_inizio, p.data_fine, a.d0, a.d1)
    LEFT JOIN sub_ambiti AS s ON s.comune = p.comune
    WHERE list_contains($interventi::VARCHAR[], p.intervento)
      AND ($eta_min::INTEGER IS NULL OR a.anno - p.anno_nascita >= $eta_min::INTEGER)
      AND ($eta_max::INTEGER IS NULL OR a.anno - p.anno_nascita <= $eta_max::INTEGER)
)
SELECT anno,
       CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       count(DISTINCT unita)::DOUBLE AS numeratore
FROM righe
GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))
