-- distinct_units_rate: distinct persons or households (integer keys of their pseudonyms) with one of
-- $interventi, per year, counted once per comune, sub-ambito and ambito (GROUPING SETS).
-- Read from the person-years (etl/person_years.py: one row per person, intervention, comune and year with
-- a record active in it); `_records_distinct_units_rate.sql` is the same count from the records themselves.
-- $evento: 'attivo' (data_inizio <= end of window and (data_fine null or >= 1 Jan)),
--          'inizio' (data_inizio in the year), 'fine' (data_fine in the year): a row has the event in the
--          window when its earliest date of that event is on or before the window's end.
-- Age on 31 December = anno - anno_nascita; $eta_min / $eta_max NULL = no bound.
-- $per_nucleo: count households (nucleo_key, else the person) instead of persons.
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
righe AS (
    SELECT a.anno, r.comune, s.sub_ambito,
           CASE WHEN $per_nucleo::BOOLEAN AND r.nucleo_key IS NOT NULL THEN -r.nucleo_key
                ELSE r.persona_key END AS unita
    FROM persone_anni AS r
    JOIN anni AS a ON a.anno = r.anno
    LEFT JOIN sub_ambiti AS s ON s.comune = r.comune
    WHERE list_contains($interventi::VARCHAR[], r.intervento)
      AND r.anno BETWEEN list_min($anni::INTEGER[]) AND list_max($anni::INTEGER[])
      AND data_evento(r.attivo_dal, r.inizio_il, r.fine_il, $evento::VARCHAR) <= a.d1
      AND ($eta_min::INTEGER IS NULL OR a.anno - r.anno_nascita >= $eta_min::INTEGER)
      AND ($eta_max::INTEGER IS NULL OR a.anno - r.anno_nascita <= $eta_max::INTEGER)
)
SELECT anno,
       CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       count(DISTINCT unita)::DOUBLE AS numeratore
FROM righe
GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))
