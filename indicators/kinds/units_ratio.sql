-- units_ratio: distinct persons or households with $num_interventi (event $num_evento) over distinct
-- persons or households with $den_interventi (event $den_evento), per year and territory.
-- Read from the person-years (etl/person_years.py and distinct_units_rate.sql);
-- `_records_units_ratio.sql` is the same count from the records themselves.
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
lati AS (
    SELECT 'N' AS lato, $num_interventi::VARCHAR[] AS interventi, $num_evento::VARCHAR AS evento
    UNION ALL
    SELECT 'D', $den_interventi::VARCHAR[], $den_evento::VARCHAR
),
righe AS (
    SELECT l.lato, a.anno, r.comune, s.sub_ambito,
           CASE WHEN $per_nucleo::BOOLEAN AND r.nucleo_key IS NOT NULL THEN -r.nucleo_key
                ELSE r.persona_key END AS unita
    FROM persone_anni AS r
    JOIN lati AS l ON list_contains(l.interventi, r.intervento)
    JOIN anni AS a ON a.anno = r.anno
    LEFT JOIN sub_ambiti AS s ON s.comune = r.comune
    WHERE list_contains(list_concat($num_interventi::VARCHAR[], $den_interventi::VARCHAR[]), r.intervento)
      AND r.anno BETWEEN list_min($anni::INTEGER[]) AND list_max($anni::INTEGER[])
      AND data_evento(r.attivo_dal, r.inizio_il, r.fine_il, l.evento) <= a.d1
)
SELECT anno,
       CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       (count(DISTINCT unita) FILTER (WHERE lato = 'N'))::DOUBLE AS numeratore,
       (count(DISTINCT unita) FILTER (WHERE lato = 'D'))::DOUBLE AS denominatore
FROM righe
GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))
